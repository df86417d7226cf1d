import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake provider does with the next chat request; default: echo the last user message. */
export type LlmServerStep =
  | { kind: 'reply'; text: string }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'malformed' }
  | { kind: 'hang' }
  | { kind: 'cut'; deltas: string[] }
  | { kind: 'stall'; deltas: string[] };

export interface LlmTestServer {
  url: string;
  script: LlmServerStep[];
  requests: { url: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

interface ChatBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: string }[];
}

/** An HTTP server on 127.0.0.1 speaking OpenAI's, Azure OpenAI's and Ollama's chat wire formats. */
export async function startLlmServer(options: { apiKey?: string } = {}): Promise<LlmTestServer> {
  const script: LlmServerStep[] = [];
  const requests: LlmTestServer['requests'] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      open.add(res);
      res.on('close', () => open.delete(res));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = (raw ? JSON.parse(raw) : {}) as ChatBody & Record<string, unknown>;
      if (req.method === 'GET') {
        if (path === '/api/version') return json(res, 200, { version: '0.0.0-test' });
        return json(res, 200, { object: 'list', data: [] });
      }
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      const ollama = path === '/api/chat';
      if (!ollama && options.apiKey !== undefined) {
        const given = req.headers['api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
        // Like OpenAI, the refusal quotes the key it was given.
        if (given !== options.apiKey)
          return json(res, 401, { error: { message: `Incorrect API key provided: ${String(given)}` } });
      }
      const step = script.shift() ?? { kind: 'reply', text: lastUser(body) };
      if (step.kind === 'hang') return;
      if (step.kind === 'status') {
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        return void res.end(step.body ?? JSON.stringify({ error: { message: 'scripted failure' } }));
      }
      if (step.kind === 'malformed') {
        res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
        return void res.end(body.stream ? 'data: {"choices": [\n\n' : '{"choices": [');
      }
      const model = body.model ?? 'unknown';
      const deltas = step.kind === 'reply' ? step.text.split(/(?<=\s)/) : step.deltas;
      const usage = { input: words(body.messages), output: deltas.length };
      if (!body.stream && step.kind === 'reply') {
        if (ollama)
          return json(res, 200, {
            model,
            created_at: new Date().toISOString(),
            message: { role: 'assistant', content: step.text },
            done: true,
            done_reason: 'stop',
            prompt_eval_count: usage.input,
            eval_count: usage.output,
          });
        return json(res, 200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 0,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: step.text }, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
        });
      }
      res.writeHead(200, { 'content-type': ollama ? 'application/x-ndjson' : 'text/event-stream' });
      const line = (value: unknown): boolean =>
        res.write(ollama ? `${JSON.stringify(value)}\n` : `data: ${JSON.stringify(value)}\n\n`);
      const chunk = (delta: Record<string, unknown>, finish: string | null): unknown =>
        ollama
          ? {
              model,
              created_at: new Date().toISOString(),
              message: { role: 'assistant', content: delta.content ?? '' },
              done: false,
            }
          : {
              id: 'chatcmpl-1',
              object: 'chat.completion.chunk',
              created: 0,
              model,
              choices: [{ index: 0, delta, finish_reason: finish }],
            };
      if (!ollama) line(chunk({ role: 'assistant', content: '' }, null));
      for (const text of deltas) line(chunk({ content: text }, null));
      // The deltas reach the client before the connection drops, as when a provider dies mid-reply.
      if (step.kind === 'cut') return void setTimeout(() => res.destroy(), 100);
      if (step.kind === 'stall') return;
      if (ollama) {
        line({
          model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: '' },
          done: true,
          done_reason: 'stop',
          prompt_eval_count: usage.input,
          eval_count: usage.output,
        });
      } else {
        line(chunk({}, 'stop'));
        line({
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: 0,
          model,
          choices: [],
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
        });
        res.write('data: [DONE]\n\n');
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function lastUser(body: ChatBody): string {
  return body.messages?.findLast((m) => m.role === 'user')?.content ?? '';
}

function words(messages: ChatBody['messages']): number {
  return (messages ?? []).reduce((sum, m) => sum + m.content.split(/\s+/).filter(Boolean).length, 0);
}

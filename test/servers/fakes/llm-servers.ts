import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  echoReply,
  json,
  ollamaCompletion,
  ollamaEmbeddings,
  openAiCompletion,
  openAiEmbeddings,
  streamChunks,
  words,
  type ChatBody,
} from './llm-wire.ts';

/** What the fake provider does with the next chat or embeddings request; default: the echo convention. */
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
  /** Every POST, with its arrival time (`performance.now()`). */
  requests: { url: string; headers: IncomingMessage['headers']; body: Record<string, unknown>; at: number }[];
  close(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 speaking OpenAI's, Azure OpenAI's and Ollama's chat and embeddings
 * wire formats, tool calls included (see `echoReply` for what it answers unscripted).
 */
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
      requests.push({ url: req.url ?? '', headers: req.headers, body, at: performance.now() });
      const ollama = path.startsWith('/api/');
      if (!ollama && options.apiKey !== undefined) {
        const given = req.headers['api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
        // Like OpenAI, the refusal quotes the key it was given.
        if (given !== options.apiKey)
          return json(res, 401, { error: { message: `Incorrect API key provided: ${String(given)}` } });
      }
      const step = script.shift();
      if (step?.kind === 'hang') return;
      if (step?.kind === 'status') {
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        return void res.end(step.body ?? JSON.stringify({ error: { message: 'scripted failure' } }));
      }
      if (step?.kind === 'malformed') {
        res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
        return void res.end(body.stream ? 'data: {"choices": [\n\n' : '{"choices": [');
      }
      if (path.endsWith('/embeddings')) return openAiEmbeddings(res, body);
      if (path === '/api/embed') return ollamaEmbeddings(res, body);
      const model = body.model ?? 'unknown';
      const echo = echoReply(body);
      const text = step?.kind === 'reply' ? step.text : echo.text;
      const deltas = step?.kind === 'cut' || step?.kind === 'stall' ? step.deltas : text.split(/(?<=\s)/);
      const reply = {
        deltas: deltas.filter((d) => d !== ''),
        ...(step === undefined && echo.toolCall ? { toolCall: echo.toolCall } : {}),
        usage: { input: words(body.messages), output: Math.max(1, deltas.length) },
      };
      if (!body.stream && (step === undefined || step.kind === 'reply'))
        return ollama ? ollamaCompletion(res, model, reply) : openAiCompletion(res, model, reply);
      const ends = step?.kind !== 'cut' && step?.kind !== 'stall';
      streamChunks(res, ollama, model, reply, ends);
      // The deltas reach the client before the connection drops, as when a provider dies mid-reply.
      if (step?.kind === 'cut') setTimeout(() => res.destroy(), 100);
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

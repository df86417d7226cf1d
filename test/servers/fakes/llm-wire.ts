// The bodies the fake LLM server writes, in OpenAI's (and Azure's) and Ollama's wire formats.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export interface ChatBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: string | null }[];
  tools?: { function: { name: string } }[];
  tool_choice?: string | { function: { name: string } };
  input?: string | string[];
  dimensions?: number;
}

/** A reply's content: text split in deltas, or one tool call with its arguments as JSON text. */
export interface Reply {
  deltas: string[];
  toolCall?: { name: string; arguments: string };
  usage: { input: number; output: number };
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export function words(messages: ChatBody['messages']): number {
  return (messages ?? []).reduce((sum, m) => sum + (m.content ?? '').split(/\s+/).filter(Boolean).length, 0);
}

/**
 * The echo convention: after a tool result, that result; with tools (not `none`), a call of the
 * first tool or the one chosen, with the last user message as its arguments; else that message.
 */
export function echoReply(body: ChatBody): { text: string; toolCall?: Reply['toolCall'] } {
  const messages = body.messages ?? [];
  const lastUser = messages.findLast((m) => m.role === 'user')?.content ?? '';
  if (messages.at(-1)?.role === 'tool') return { text: messages.at(-1)?.content ?? '' };
  const choice = body.tool_choice;
  if (body.tools === undefined || body.tools.length === 0 || choice === 'none') return { text: lastUser };
  const name = typeof choice === 'object' ? choice.function.name : body.tools[0]!.function.name;
  return { text: '', toolCall: { name, arguments: lastUser } };
}

/** A unit vector from the text alone, so equal texts get equal vectors. */
export function vectorOf(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let at = 0; at + 4 <= digest.length && values.length < dimensions; at += 4)
      values.push(digest.readInt32BE(at) / 2 ** 31);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((v) => v / norm);
}

export function openAiEmbeddings(res: ServerResponse, body: ChatBody): void {
  const input = typeof body.input === 'string' ? [body.input] : (body.input ?? []);
  json(res, 200, {
    object: 'list',
    data: input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: vectorOf(text, body.dimensions ?? 16),
    })),
    model: body.model ?? 'embedding-test',
    usage: { prompt_tokens: words(input.map((content) => ({ role: 'user', content }))), total_tokens: 0 },
  });
}

export function ollamaEmbeddings(res: ServerResponse, body: ChatBody): void {
  const input = typeof body.input === 'string' ? [body.input] : (body.input ?? []);
  json(res, 200, {
    model: body.model ?? 'embedding-test',
    embeddings: input.map((text) => vectorOf(text, body.dimensions ?? 16)),
    prompt_eval_count: words(input.map((content) => ({ role: 'user', content }))),
  });
}

const usageOf = ({ usage }: Reply) => ({
  prompt_tokens: usage.input,
  completion_tokens: usage.output,
  total_tokens: usage.input + usage.output,
});

export function openAiCompletion(res: ServerResponse, model: string, reply: Reply): void {
  const { toolCall } = reply;
  const message = toolCall
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_0', type: 'function', function: toolCall }],
      }
    : { role: 'assistant', content: reply.deltas.join('') };
  json(res, 200, {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message, finish_reason: toolCall ? 'tool_calls' : 'stop' }],
    usage: usageOf(reply),
  });
}

export function ollamaCompletion(res: ServerResponse, model: string, reply: Reply): void {
  json(res, 200, {
    ...ollamaDone(model, reply),
    message: ollamaMessage(reply.deltas.join(''), reply.toolCall),
  });
}

/** Writes a stream's chunks up to its end; `end` false leaves it open after the deltas (cut, stall). */
export function streamChunks(
  res: ServerResponse,
  ollama: boolean,
  model: string,
  reply: Reply,
  end: boolean,
): void {
  res.writeHead(200, { 'content-type': ollama ? 'application/x-ndjson' : 'text/event-stream' });
  const line = (value: unknown): boolean =>
    res.write(ollama ? `${JSON.stringify(value)}\n` : `data: ${JSON.stringify(value)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finish: string | null): unknown => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const created_at = new Date().toISOString();
  if (!ollama) line(chunk({ role: 'assistant', content: '' }, null));
  for (const text of reply.deltas)
    line(
      ollama
        ? { model, created_at, message: ollamaMessage(text), done: false }
        : chunk({ content: text }, null),
    );
  const { toolCall } = reply;
  if (toolCall && ollama) line({ model, created_at, message: ollamaMessage('', toolCall), done: false });
  if (toolCall && !ollama) {
    // As OpenAI streams them: id and name first, then the arguments in pieces.
    const fn = { name: toolCall.name, arguments: '' };
    line(chunk({ tool_calls: [{ index: 0, id: 'call_0', type: 'function', function: fn }] }, null));
    for (const piece of toolCall.arguments.match(/.{1,4}/gs) ?? [])
      line(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
  }
  if (!end) return;
  if (ollama) line({ ...ollamaDone(model, reply), message: ollamaMessage('') });
  else {
    line(chunk({}, toolCall ? 'tool_calls' : 'stop'));
    line({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 0,
      model,
      choices: [],
      usage: usageOf(reply),
    });
    res.write('data: [DONE]\n\n');
  }
  res.end();
}

function ollamaMessage(content: string, toolCall?: Reply['toolCall']): Record<string, unknown> {
  if (toolCall === undefined) return { role: 'assistant', content };
  let args: unknown = {};
  try {
    args = JSON.parse(toolCall.arguments);
  } catch {
    // Ollama's arguments are always an object: text that is not JSON becomes none.
  }
  return { role: 'assistant', content, tool_calls: [{ function: { name: toolCall.name, arguments: args } }] };
}

function ollamaDone(model: string, reply: Reply): Record<string, unknown> {
  return {
    model,
    created_at: new Date().toISOString(),
    done: true,
    done_reason: 'stop',
    prompt_eval_count: reply.usage.input,
    eval_count: reply.usage.output,
  };
}

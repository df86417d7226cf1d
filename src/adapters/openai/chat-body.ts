// Between berth's request and the chat completions wire shape: messages with tool calls and
// results, tools and the tool choice, and the tool calls of a reply.
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type {
  LlmAdapterRequest,
  LlmAdapterToolCall,
  LlmMessage,
  LlmToolChoice,
} from '../../ports/llm-client.ts';

export function chatBody(request: LlmAdapterRequest): Omit<ChatCompletionCreateParamsNonStreaming, 'stream'> {
  return {
    model: request.model,
    messages: request.messages.map(chatMessage),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { max_completion_tokens: request.maxTokens }),
    ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
    ...(request.responseFormat === undefined
      ? {}
      : {
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: request.responseFormat.name ?? 'response',
              schema: request.responseFormat.schema,
              strict: true,
            },
          },
        }),
    ...(request.tools === undefined
      ? {}
      : {
          tools: request.tools.map((tool) => ({
            type: 'function' as const,
            function: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: tool.parameters,
            },
          })),
        }),
    ...(request.toolChoice === undefined ? {} : { tool_choice: toolChoice(request.toolChoice) }),
  };
}

function chatMessage(message: LlmMessage): ChatCompletionMessageParam {
  if (message.role === 'tool')
    return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
  if (message.role === 'assistant' && message.toolCalls !== undefined && message.toolCalls.length > 0)
    return {
      role: 'assistant',
      content: message.content === '' ? null : message.content,
      tool_calls: message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.name, arguments: JSON.stringify(call.arguments ?? {}) },
      })),
    };
  return { role: message.role, content: message.content };
}

function toolChoice(choice: LlmToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function replyToolCalls(message: ChatCompletionMessage | undefined): LlmAdapterToolCall[] {
  const calls: LlmAdapterToolCall[] = [];
  for (const call of message?.tool_calls ?? [])
    if (call.type === 'function')
      calls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
  return calls;
}

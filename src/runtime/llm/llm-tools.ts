import type { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapterTool,
  LlmAdapterToolCall,
  LlmTool,
  LlmToolCall,
  LlmToolChoice,
} from '../../ports/llm-client.ts';
import type { StandardSchemaV1 } from '../../ports/standard-schema.ts';
import { jsonSchemaIssue } from './json-schema-check.ts';

type Invalid = (operation: string, path: string, message: string) => InfraError;

const toolName = /^[A-Za-z0-9_-]{1,64}$/;

// Zod 4 and other Standard JSON Schema vendors describe themselves under `~standard.jsonSchema`.
interface DescribesJsonSchema {
  jsonSchema?: { input?: (options: { target: string }) => Record<string, unknown> };
}

const isStandardSchema = (value: unknown): value is StandardSchemaV1 =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Partial<StandardSchemaV1>)['~standard']?.validate === 'function';

/** The tools of one request: what the adapter sends, and how each call's arguments are checked. */
export class ToolSet {
  static readonly none = new ToolSet([], new Map());
  readonly adapterTools: readonly LlmAdapterTool[];
  readonly #schemas: ReadonlyMap<string, Record<string, unknown> | StandardSchemaV1>;

  private constructor(
    adapterTools: readonly LlmAdapterTool[],
    schemas: ReadonlyMap<string, Record<string, unknown> | StandardSchemaV1>,
  ) {
    this.adapterTools = adapterTools;
    this.#schemas = schemas;
  }

  /** Checks the request's tools before any I/O; a Standard Schema is turned into JSON Schema. */
  static of(
    operation: string,
    tools: readonly LlmTool[] | undefined,
    choice: LlmToolChoice | undefined,
    invalid: Invalid,
  ): ToolSet {
    if (tools === undefined) {
      if (choice !== undefined) throw invalid(operation, 'toolChoice', 'needs tools');
      return ToolSet.none;
    }
    if (!Array.isArray(tools) || tools.length === 0)
      throw invalid(operation, 'tools', 'must be a non-empty array');
    const schemas = new Map<string, Record<string, unknown> | StandardSchemaV1>();
    const adapterTools = tools.map((tool: LlmTool, index): LlmAdapterTool => {
      const path = `tools.${index}`;
      if (typeof tool?.name !== 'string' || !toolName.test(tool.name))
        throw invalid(operation, `${path}.name`, 'must be 1 to 64 letters, digits, _ or -');
      if (schemas.has(tool.name)) throw invalid(operation, `${path}.name`, `${tool.name} is given twice`);
      if (tool.description !== undefined && typeof tool.description !== 'string')
        throw invalid(operation, `${path}.description`, 'must be a string');
      schemas.set(tool.name, tool.parameters);
      return {
        name: tool.name,
        description: tool.description,
        parameters: jsonSchemaOf(operation, `${path}.parameters`, tool.parameters, invalid),
      };
    });
    checkChoice(operation, choice, schemas, invalid);
    return new ToolSet(adapterTools, schemas);
  }

  /** The model's calls with their arguments parsed and checked; `validation` names the tool that failed. */
  async check(
    operation: string,
    calls: readonly LlmAdapterToolCall[] | undefined,
    invalid: Invalid,
  ): Promise<LlmToolCall[]> {
    const checked: LlmToolCall[] = [];
    for (const call of calls ?? []) {
      const path = `toolCalls.${call.name}`;
      let parsed: unknown;
      try {
        parsed = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
      } catch {
        throw invalid(operation, path, `the model's arguments for tool ${call.name} are not JSON`);
      }
      const schema = this.#schemas.get(call.name);
      if (schema === undefined && this.#schemas.size > 0)
        throw invalid(operation, path, `the model called ${call.name}, which is not one of the tools`);
      checked.push({
        id: call.id,
        name: call.name,
        arguments: await argumentsOf(operation, call, schema, parsed, invalid),
      });
    }
    return checked;
  }
}

async function argumentsOf(
  operation: string,
  call: LlmAdapterToolCall,
  schema: Record<string, unknown> | StandardSchemaV1 | undefined,
  parsed: unknown,
  invalid: Invalid,
): Promise<unknown> {
  const path = `toolCalls.${call.name}`;
  if (schema === undefined) return parsed;
  if (isStandardSchema(schema)) {
    const result = await schema['~standard'].validate(parsed);
    if (result.issues === undefined) return result.value;
    const [issue] = result.issues;
    const at = issue?.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    throw invalid(
      operation,
      path,
      `arguments for tool ${call.name} do not match its schema: ${at ? `${at}: ` : ''}${issue?.message ?? 'invalid'}`,
    );
  }
  const issue = jsonSchemaIssue(schema, parsed);
  if (issue !== undefined)
    throw invalid(operation, path, `arguments for tool ${call.name} do not match its schema: ${issue}`);
  return parsed;
}

function jsonSchemaOf(
  operation: string,
  path: string,
  parameters: unknown,
  invalid: Invalid,
): Record<string, unknown> {
  if (isStandardSchema(parameters)) {
    const describe = (parameters['~standard'] as DescribesJsonSchema).jsonSchema?.input;
    if (typeof describe !== 'function')
      throw invalid(
        operation,
        path,
        'is a Standard Schema that cannot describe itself as JSON Schema; give JSON Schema',
      );
    const { $schema: _dialect, ...schema } = describe({ target: 'draft-2020-12' });
    return schema;
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters))
    throw invalid(operation, path, 'must be a JSON Schema object or a Standard Schema');
  return parameters as Record<string, unknown>;
}

function checkChoice(
  operation: string,
  choice: LlmToolChoice | undefined,
  schemas: ReadonlyMap<string, unknown>,
  invalid: Invalid,
): void {
  if (choice === undefined || choice === 'auto' || choice === 'none' || choice === 'required') return;
  if (typeof choice !== 'object' || choice === null || typeof choice.name !== 'string')
    throw invalid(operation, 'toolChoice', 'must be auto, none, required or { name }');
  if (!schemas.has(choice.name))
    throw invalid(operation, 'toolChoice', `names no tool given (${choice.name})`);
}

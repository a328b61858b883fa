// Chat completions with structured output: one request per row, the answer asked for as JSON
// matching a schema (`response_format: { type: "json_schema" }`, which OpenAI, vLLM's guided
// decoding and llama.cpp honour), then parsed and validated here, since a server may ignore the
// format or cut the answer at max_tokens. A row whose answer does not parse or validate is not an
// error of the batch: its reason goes to the ROW_ERRORS output and the infer stage dead-letters it.
import type { ValidateFunction } from 'ajv';
import { ROW_ERRORS } from '../../core/row-errors.js';
import { InvalidArgumentError } from '../errors.js';
import { ProtocolError } from '../serving-errors.js';
import type { Tensor } from '../tensor.js';

/**
 * The JSON an answer must be: a JSON Schema (draft-07 subset that OpenAI's strict mode accepts).
 *
 * @example
 * const fmt: StructuredOutput = { name: 'explanation', schema: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] } };
 */
export interface StructuredOutput {
  /** Schema name sent to the server (letters, digits, `_`, `-`). */
  name: string;
  schema: Record<string, unknown>;
  /** OpenAI's `strict` flag; default true. */
  strict?: boolean;
}

/** A chat request ready to send, and the answer read back. */
export interface ChatCall {
  body: Record<string, unknown>;
  /** Estimated prompt tokens (4 characters a token), charged to the token budget up front. */
  tokens: number;
}

/**
 * Compiles the schema (ajv, loaded on first use): an invalid schema fails at connect.
 *
 * @example
 * const validate = await compileSchema(fmt);
 */
export async function compileSchema(fmt: StructuredOutput): Promise<ValidateFunction> {
  if (typeof fmt.name !== 'string' || !/^[\w-]{1,64}$/.test(fmt.name))
    throw new InvalidArgumentError(
      `responseFormat.name is "${String(fmt.name)}": use 1-64 letters, digits, _ or -`,
    );
  const Ajv = (await import('ajv')).default.default;
  try {
    return new Ajv({ strict: false, logger: false, allErrors: false }).compile(fmt.schema);
  } catch (cause) {
    throw new InvalidArgumentError(
      `responseFormat.schema is not a valid JSON Schema: ${(cause as Error).message}`,
    );
  }
}

/**
 * The request body for one row.
 *
 * @example
 * const call = chatRequest({ model: 'qwen2.5-7b', system: 'Explain the alert.', text: alertJson, fmt });
 */
export function chatRequest(o: {
  model: string;
  system: string | undefined;
  text: string;
  temperature: number;
  maxTokens: number | undefined;
  fmt: StructuredOutput | undefined;
}): ChatCall {
  const messages: { role: string; content: string }[] = [];
  if (o.system !== undefined) messages.push({ role: 'system', content: o.system });
  messages.push({ role: 'user', content: o.text });
  const body: Record<string, unknown> = { model: o.model, temperature: o.temperature, messages };
  if (o.maxTokens !== undefined) body.max_tokens = o.maxTokens;
  if (o.fmt !== undefined)
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: o.fmt.name, schema: o.fmt.schema, strict: o.fmt.strict ?? true },
    };
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return { body, tokens: Math.ceil(chars / 4) + (o.maxTokens ?? 0) };
}

/**
 * The answer's content, or the reason the row cannot be used: no content, a refusal, an answer
 * cut at `max_tokens`, JSON that does not parse, JSON that does not match the schema.
 *
 * @example
 * const { content, error } = readAnswer(res, validate);
 */
export function readAnswer(
  res: unknown,
  validate: ValidateFunction | undefined,
): { content: string; error: string } {
  const choice = (
    res as {
      choices?: { message?: { content?: unknown; refusal?: unknown }; finish_reason?: unknown }[];
    }
  )?.choices?.[0];
  if (choice === undefined) throw new ProtocolError('/chat/completions answer has no choices[0]');
  const refusal = choice.message?.refusal;
  if (typeof refusal === 'string' && refusal !== '')
    return { content: '', error: `the model refused: ${refusal}` };
  const content = choice.message?.content;
  if (typeof content !== 'string')
    throw new ProtocolError('/chat/completions answer has no choices[0].message.content');
  if (validate === undefined) return { content, error: '' };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (e) {
    const cut = choice.finish_reason === 'length' ? ' (the answer was cut at max_tokens)' : '';
    return {
      content,
      error: `structured output is not JSON${cut}: ${(e as Error).message}; answer began ${JSON.stringify(content.slice(0, 80))}`,
    };
  }
  if (!validate(value)) {
    const err = validate.errors?.[0];
    const at = err?.instancePath === '' || err === undefined ? '(root)' : err.instancePath;
    return {
      content,
      error: `structured output does not match the schema: ${at} ${err?.message ?? 'is invalid'}`,
    };
  }
  return { content: JSON.stringify(value), error: '' };
}

/**
 * The chat task's outputs: `json` (string [N]: the validated JSON text, or the plain answer
 * without a schema) and the per-row errors.
 *
 * @example
 * return chatOutputs(contents, errors);
 */
export function chatOutputs(contents: string[], errors: string[]): Record<string, Tensor> {
  const n = contents.length;
  return {
    json: { type: 'string', data: contents, dims: [n] },
    [ROW_ERRORS]: { type: 'string', data: errors, dims: [n] },
  };
}

/**
 * Tokens the server says a request used (`usage.total_tokens`), when it says.
 *
 * @example
 * permit.done({ tokens: usedTokens(res) });
 */
export function usedTokens(res: unknown): number | undefined {
  const t = (res as { usage?: { total_tokens?: unknown } })?.usage?.total_tokens;
  return typeof t === 'number' && Number.isFinite(t) ? t : undefined;
}

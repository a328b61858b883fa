import { DecodeError, requireOption } from './errors.js';

/** Field types a JSON schema can require; a trailing `?` makes the field optional. */
export type FieldType = 'number' | 'integer' | 'string' | 'boolean' | 'object' | 'array';
type PrimitiveType = 'number' | 'integer' | 'string' | 'boolean';
/** `'number[]'`: an array whose elements all have that type. */
type ArrayOfPrimitive = `${PrimitiveType}[]`;

declare const optionalTag: unique symbol;
/** A nested object or array made optional by `optional(...)`. */
export interface Optional<F extends NestedSpec = NestedSpec> {
  readonly [optionalTag]: F;
}
/** A nested object (its own schema) or an array of elements of one spec (`[spec]`). */
type NestedSpec = JsonSchema | readonly [ElementSpec];
/** What an array's elements may be: a type, an array of a type, a nested object or array. */
type ElementSpec = FieldType | ArrayOfPrimitive | NestedSpec;
/**
 * One field of a schema: a type name (`'number'`), optional with `?` (`'string?'`), an array of
 * a type (`'number[]'`, `'string[]?'`), a nested object (`{ city: 'string' }`), an array of
 * objects (`[{ sku: 'string' }]`), or a nested one made optional with `optional(...)`.
 */
export type FieldSpec =
  FieldType | `${FieldType}?` | ArrayOfPrimitive | `${ArrayOfPrimitive}?` | NestedSpec | Optional;
/** A JSON record's schema: field name → spec. Flat schemas are the common, fastest case. */
export interface JsonSchema {
  readonly [field: string]: FieldSpec;
}

type Primitive<F> = F extends 'number' | 'integer'
  ? number
  : F extends 'string'
    ? string
    : F extends 'boolean'
      ? boolean
      : F extends 'array'
        ? unknown[]
        : Record<string, unknown>;
type Value<F> =
  F extends Optional<infer N>
    ? Value<N>
    : F extends `${infer P}[]?`
      ? Primitive<P>[]
      : F extends `${infer P}[]`
        ? Primitive<P>[]
        : F extends `${infer P}?`
          ? Primitive<P>
          : F extends string
            ? Primitive<F>
            : F extends readonly [infer E]
              ? Value<E>[]
              : F extends JsonSchema
                ? FromSchema<F>
                : never;
type OptionalKeys<S extends JsonSchema> = {
  [K in keyof S]: S[K] extends `${string}?` | Optional ? K : never;
}[keyof S];
type RequiredKeys<S extends JsonSchema> = Exclude<keyof S, OptionalKeys<S>>;
/** The record type a schema describes (nested objects and arrays typed too). */
export type FromSchema<S extends JsonSchema> = { -readonly [K in RequiredKeys<S>]: Value<S[K]> } & {
  -readonly [K in OptionalKeys<S>]?: Value<S[K]>;
};

const OPTIONAL = Symbol('sluice.optional');

/**
 * Makes a nested object or array field optional (type names take a `?` instead).
 *
 * @example
 * json({ id: 'integer', address: optional({ city: 'string' }) });
 */
export function optional<const F extends NestedSpec>(spec: F): Optional<F> {
  return { [OPTIONAL]: spec } as unknown as Optional<F>;
}

const TYPES: readonly FieldType[] = ['number', 'integer', 'string', 'boolean', 'object', 'array'];

export function checkType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Checks the inside of a value whose own type was already checked; `path` names it in errors. */
type InnerCheck = (value: unknown, path: string) => void;

/** A compiled field: flat fields have no `inner`, so the flat path stays one type test each. */
export interface CompiledField {
  name: string;
  type: FieldType;
  optional: boolean;
  inner: InnerCheck | undefined;
}

export function mismatch(path: string, type: FieldType, v: unknown): DecodeError {
  return new DecodeError(
    `field "${path}": expected ${type}, got ${describe(v)} ${JSON.stringify(v)?.slice(0, 40) ?? ''}`.trimEnd(),
  );
}

/** Checks an object's fields against compiled specs; throws DecodeError naming the first bad one. */
export function checkFields(
  obj: Record<string, unknown>,
  fields: readonly CompiledField[],
  prefix: string,
): void {
  for (const f of fields) {
    const v = obj[f.name];
    if (v === undefined) {
      if (!f.optional) throw new DecodeError(`field "${prefix}${f.name}" is missing`);
    } else if (!checkType(v, f.type)) {
      throw mismatch(prefix + f.name, f.type, v);
    } else if (f.inner !== undefined) f.inner(v, prefix + f.name);
  }
}

function isOptional(spec: unknown): spec is Record<typeof OPTIONAL, NestedSpec> {
  return typeof spec === 'object' && spec !== null && OPTIONAL in spec;
}

/** Compiles a schema once, at construction; unknown types are rejected with what to use. */
export function compileSchema(schema: JsonSchema, prefix = ''): CompiledField[] {
  requireOption(
    typeof schema === 'object' && schema !== null && !Array.isArray(schema),
    `json schema${prefix ? ` field "${prefix.slice(0, -1)}"` : ''}: expected an object of field specs`,
  );
  return Object.entries(schema).map(([name, spec]) => {
    const path = prefix + name;
    if (isOptional(spec)) return { name, optional: true, ...compileSpec(spec[OPTIONAL], path) };
    if (typeof spec === 'string' && spec.endsWith('?'))
      return { name, optional: true, ...compileSpec(spec.slice(0, -1) as FieldSpec, path) };
    return { name, optional: false, ...compileSpec(spec, path) };
  });
}

function compileSpec(spec: FieldSpec, path: string): { type: FieldType; inner: InnerCheck | undefined } {
  if (typeof spec === 'string') {
    if (spec.endsWith('[]')) {
      const element = spec.slice(0, -2) as FieldType;
      requireType(element, spec, path);
      return { type: 'array', inner: arrayCheck({ type: element, inner: undefined }) };
    }
    requireType(spec as FieldType, spec, path);
    return { type: spec as FieldType, inner: undefined };
  }
  if (Array.isArray(spec)) {
    requireOption(
      spec.length === 1,
      `json schema field "${path}": an array spec holds exactly one element spec, e.g. [{ sku: 'string' }]`,
    );
    return { type: 'array', inner: arrayCheck(compileSpec(spec[0] as FieldSpec, `${path}[]`)) };
  }
  const fields = compileSchema(spec as JsonSchema, `${path}.`);
  return {
    type: 'object',
    // `at` is the value's path in this record (array indexes included), built per nested value.
    inner: (v, at) => checkFields(v as Record<string, unknown>, fields, `${at}.`),
  };
}

function requireType(type: FieldType, spec: string, path: string): void {
  requireOption(
    TYPES.includes(type),
    `json schema field "${path}": unknown type "${spec}" (use one of ${TYPES.join(', ')}, optionally with "[]" and/or "?")`,
  );
}

function arrayCheck(element: { type: FieldType; inner: InnerCheck | undefined }): InnerCheck {
  return (v, path) => {
    const items = v as unknown[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!checkType(item, element.type)) throw mismatch(`${path}[${i}]`, element.type, item);
      if (element.inner !== undefined) element.inner(item, `${path}[${i}]`);
    }
  };
}

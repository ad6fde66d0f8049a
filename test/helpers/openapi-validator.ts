// A small request/response validator for API specs under GRIM_SHARED_DIR/specs: Swagger 2.0
// (Firecracker) and OpenAPI 3.0 (NetBox). It matches method + path against the spec's path
// templates, checks path and query parameters, and checks JSON bodies against the referenced
// schemas: $ref (nested), allOf/oneOf/anyOf, type, nullable, enum, required, properties,
// additionalProperties, items, string length/pattern, numeric bounds and readOnly fields.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

export interface SpecIssue {
  at: string; // where: "body.vcpu_count", "path", "query.limit"
  message: string;
}

type Schema = Record<string, any>;

export interface ValidateOptions {
  /** "request": readOnly fields are not required and must not be sent. "response": the reverse. */
  mode: 'request' | 'response';
  /** Reject properties a schema does not declare even where the spec leaves additionalProperties open. */
  forbidUnknownProperties?: boolean;
}

export interface BodyCorrection {
  method: string;
  path: string; // path template as in the spec
  schema: Schema; // replaces the spec's request body schema
  reason: string;
}

export interface MatchedOperation {
  template: string;
  method: string;
  operation: Schema;
  pathParams: Record<string, string>;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** GRIM_SHARED_DIR, or ../shared relative to the repository root. */
export function sharedDir(): string {
  return path.resolve(REPO_ROOT, process.env.GRIM_SHARED_DIR ?? '../shared');
}

const loaded = new Map<string, Promise<OpenApiDocument>>();

/**
 * Loads specs/<fileName> from the shared directory once per process. Resolves to a skip reason
 * (a string naming GRIM_SHARED_DIR) when the file is missing, so tests can skip and say why.
 */
export async function loadSharedSpec(fileName: string): Promise<OpenApiDocument | string> {
  const file = path.join(sharedDir(), 'specs', fileName);
  if (!existsSync(file)) {
    return `spec ${file} not found: set GRIM_SHARED_DIR to the shared reference directory (default ../shared from the repo root)`;
  }
  let pending = loaded.get(file);
  if (pending === undefined) {
    pending = readFile(file, 'utf8').then((text) => new OpenApiDocument(parse(text, { maxAliasCount: -1 })));
    loaded.set(file, pending);
  }
  return pending;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// Formats that are really regular expressions (Firecracker's MmdsConfig.ipv4_address) are applied
// as anchored patterns; well-known format names are checked where cheap, others ignored.
function checkFormat(format: string, value: string): string | undefined {
  if (format === 'date-time') return Number.isNaN(Date.parse(value)) ? 'is not a date-time' : undefined;
  if (format === 'uuid') {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
      ? undefined
      : 'is not a uuid';
  }
  if (/[()[\]|\\]/.test(format)) {
    return new RegExp(`^(?:${format})$`).test(value) ? undefined : `does not match format ${format}`;
  }
  return undefined;
}

export class OpenApiDocument {
  readonly raw: Schema;
  readonly kind: 'swagger2' | 'openapi3';
  readonly corrections: BodyCorrection[] = [];
  private readonly templates: Array<{ template: string; regex: RegExp; names: string[]; literal: number }>;

  constructor(raw: Schema) {
    this.raw = raw;
    if (typeof raw.swagger === 'string' && raw.swagger.startsWith('2.')) this.kind = 'swagger2';
    else if (typeof raw.openapi === 'string' && raw.openapi.startsWith('3.')) this.kind = 'openapi3';
    else throw new Error('not a Swagger 2.0 or OpenAPI 3.x document');
    this.templates = Object.keys(raw.paths ?? {}).map((template) => {
      const names: string[] = [];
      const source = template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const m = /^\{([^}]+)\}$/.exec(part);
          if (m) {
            names.push(m[1]);
            return '([^/]+)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return {
        template,
        regex: new RegExp(`^${source}$`),
        names,
        literal: template.replace(/\{[^}]+\}/g, '').length,
      };
    });
    // Most literal template first, so "/prefixes/{id}/available-ips/" never loses to a looser one.
    this.templates.sort((a, b) => b.literal - a.literal);
  }

  /** Replaces the spec's body schema for one operation (for documented spec errors). */
  correctRequestBody(correction: BodyCorrection): void {
    this.corrections.push(correction);
  }

  resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported: ${ref}`);
    let node: any = this.raw;
    for (const part of ref.slice(2).split('/')) {
      node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    }
    return node;
  }

  /** A named definition (Swagger 2) or component schema (OpenAPI 3). */
  schema(name: string): Schema {
    return this.kind === 'swagger2'
      ? this.resolve(`#/definitions/${name}`)
      : this.resolve(`#/components/schemas/${name}`);
  }

  matchOperation(method: string, pathname: string): MatchedOperation | undefined {
    for (const t of this.templates) {
      const m = t.regex.exec(pathname);
      if (!m) continue;
      const operation = this.raw.paths[t.template][method.toLowerCase()];
      if (operation === undefined) continue;
      const pathParams: Record<string, string> = {};
      t.names.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1])));
      return { template: t.template, method: method.toUpperCase(), operation, pathParams };
    }
    return undefined;
  }

  private parameters(op: MatchedOperation): Schema[] {
    const shared = this.raw.paths[op.template].parameters ?? [];
    return [...shared, ...(op.operation.parameters ?? [])].map((p: Schema) =>
      p.$ref ? this.resolve(p.$ref) : p,
    );
  }

  private paramSchema(param: Schema): Schema {
    return this.kind === 'openapi3' ? (param.schema ?? {}) : param;
  }

  /** Validates a request: method + path (+ query) against the paths, then parameters and body. */
  validateRequest(
    request: { method: string; url: string; body?: unknown },
    options: Omit<ValidateOptions, 'mode'> = {},
  ): { issues: SpecIssue[]; match?: MatchedOperation } {
    const url = new URL(request.url, 'http://spec.invalid');
    const match = this.matchOperation(request.method, url.pathname);
    if (match === undefined) {
      return { issues: [{ at: 'path', message: `${request.method} ${url.pathname} is not in the spec` }] };
    }
    const issues: SpecIssue[] = [];
    const params = this.parameters(match);
    for (const param of params.filter((p) => p.in === 'path')) {
      const value = match.pathParams[param.name];
      this.checkParamValue(this.paramSchema(param), value, `path.${param.name}`, issues);
    }
    const queryParams = new Map(params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const name of new Set(url.searchParams.keys())) {
      const param = queryParams.get(name);
      if (param === undefined) {
        issues.push({ at: `query.${name}`, message: 'is not a parameter of this operation' });
        continue;
      }
      const schema = this.paramSchema(param);
      const values = url.searchParams.getAll(name);
      if (schema.type === 'array')
        values.forEach((v, i) => this.checkParamValue(schema.items ?? {}, v, `query.${name}[${i}]`, issues));
      else if (values.length > 1) issues.push({ at: `query.${name}`, message: 'given more than once' });
      else this.checkParamValue(schema, values[0], `query.${name}`, issues);
    }
    for (const param of params.filter((p) => p.in === 'query' && p.required)) {
      if (!url.searchParams.has(param.name))
        issues.push({ at: `query.${param.name}`, message: 'is required' });
    }
    const body = this.requestBodySchema(match, params);
    if (body === undefined) {
      if (request.body !== undefined) issues.push({ at: 'body', message: 'this operation takes no body' });
    } else if (request.body === undefined) {
      if (body.required) issues.push({ at: 'body', message: 'is required' });
    } else {
      issues.push(...this.validateValue(body.schema, request.body, { ...options, mode: 'request' }, 'body'));
    }
    return { issues, match };
  }

  private requestBodySchema(
    match: MatchedOperation,
    params: Schema[],
  ): { schema: Schema; required: boolean } | undefined {
    const corrected = this.corrections.find((c) => c.method === match.method && c.path === match.template);
    if (corrected) return { schema: corrected.schema, required: true };
    if (this.kind === 'swagger2') {
      const param = params.find((p) => p.in === 'body');
      return param === undefined
        ? undefined
        : { schema: param.schema ?? {}, required: param.required === true };
    }
    const rb = match.operation.requestBody;
    if (rb === undefined) return undefined;
    const resolved = rb.$ref ? this.resolve(rb.$ref) : rb;
    const schema = resolved.content?.['application/json']?.schema;
    return schema === undefined ? undefined : { schema, required: resolved.required === true };
  }

  private checkParamValue(schema: Schema, value: string | undefined, at: string, issues: SpecIssue[]): void {
    if (value === undefined) return void issues.push({ at, message: 'is missing' });
    const resolved = schema.$ref ? this.resolve(schema.$ref) : schema;
    let typed: unknown = value;
    if (resolved.type === 'integer') {
      if (!/^-?\d+$/.test(value)) return void issues.push({ at, message: `"${value}" is not an integer` });
      typed = Number(value);
    } else if (resolved.type === 'number') {
      if (!Number.isFinite(Number(value)))
        return void issues.push({ at, message: `"${value}" is not a number` });
      typed = Number(value);
    } else if (resolved.type === 'boolean') {
      if (value !== 'true' && value !== 'false')
        return void issues.push({ at, message: `"${value}" is not a boolean` });
      typed = value === 'true';
    }
    issues.push(...this.validateValue({ ...resolved, nullable: true }, typed, { mode: 'request' }, at));
  }

  /** The response schema for a status (falling back to "default"), or undefined if the spec has none. */
  responseSchema(match: MatchedOperation, status: number): Schema | undefined | null {
    const responses = match.operation.responses ?? {};
    const response = responses[String(status)] ?? responses.default;
    if (response === undefined) return null; // status not documented at all
    const resolved = response.$ref ? this.resolve(response.$ref) : response;
    return this.kind === 'swagger2' ? resolved.schema : resolved.content?.['application/json']?.schema;
  }

  validateResponse(match: MatchedOperation, status: number, body: unknown): SpecIssue[] {
    const schema = this.responseSchema(match, status);
    if (schema === null) return [{ at: 'status', message: `${status} is not a documented response` }];
    if (schema === undefined)
      return body === undefined ? [] : [{ at: 'body', message: `${status} has no body in the spec` }];
    return this.validateValue(schema, body, { mode: 'response' }, 'body');
  }

  validateValue(schema: Schema, value: unknown, options: ValidateOptions, at = 'value'): SpecIssue[] {
    const issues: SpecIssue[] = [];
    this.check(schema, value, at, options, issues);
    return issues;
  }

  private check(
    schema: Schema,
    value: unknown,
    at: string,
    options: ValidateOptions,
    issues: SpecIssue[],
  ): void {
    if (schema.$ref !== undefined) {
      // Swagger 2 and OAS 3.0 ignore siblings of $ref; nullable beside allOf is handled below.
      return this.check(this.resolve(schema.$ref), value, at, options, issues);
    }
    if (value === null) {
      if (schema.nullable === true || schema['x-nullable'] === true) return;
      if (schema.type !== undefined || schema.allOf || schema.$ref || schema.properties || schema.enum) {
        issues.push({ at, message: 'must not be null' });
      }
      return;
    }
    for (const part of schema.allOf ?? []) this.check(part, value, at, options, issues);
    if (schema.oneOf || schema.anyOf) {
      const variants: Schema[] = schema.oneOf ?? schema.anyOf;
      const passing = variants.filter((v) => this.validateValue(v, value, options, at).length === 0).length;
      if (schema.oneOf && passing !== 1)
        issues.push({ at, message: `matches ${passing} of the oneOf variants, not 1` });
      if (schema.anyOf && passing === 0) issues.push({ at, message: 'matches none of the anyOf variants' });
    }
    if (schema.enum !== undefined && !schema.enum.includes(value)) {
      issues.push({ at, message: `${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}` });
      return;
    }
    const actual = typeOf(value);
    const type: string | undefined = schema.type ?? (schema.properties ? 'object' : undefined);
    if (type === undefined) return;
    const typeOk =
      type === actual ||
      (type === 'integer' && actual === 'number' && Number.isInteger(value)) ||
      (type === 'number' && actual === 'number');
    if (!typeOk) return void issues.push({ at, message: `expected ${type}, got ${actual}` });
    if (type === 'object') this.checkObject(schema, value as Record<string, unknown>, at, options, issues);
    else if (type === 'array') {
      const items = value as unknown[];
      if (schema.minItems !== undefined && items.length < schema.minItems)
        issues.push({ at, message: `fewer than ${schema.minItems} items` });
      if (schema.maxItems !== undefined && items.length > schema.maxItems)
        issues.push({ at, message: `more than ${schema.maxItems} items` });
      if (schema.items)
        items.forEach((item, i) => this.check(schema.items, item, `${at}[${i}]`, options, issues));
    } else if (type === 'string') {
      const s = value as string;
      if (schema.minLength !== undefined && s.length < schema.minLength)
        issues.push({ at, message: `shorter than ${schema.minLength}` });
      if (schema.maxLength !== undefined && s.length > schema.maxLength)
        issues.push({ at, message: `longer than ${schema.maxLength}` });
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(s))
        issues.push({ at, message: `does not match ${schema.pattern}` });
      const formatIssue = schema.format === undefined ? undefined : checkFormat(schema.format, s);
      if (formatIssue) issues.push({ at, message: formatIssue });
    } else if (type === 'integer' || type === 'number') {
      const n = value as number;
      if (
        schema.minimum !== undefined &&
        (schema.exclusiveMinimum === true ? n <= schema.minimum : n < schema.minimum)
      ) {
        issues.push({ at, message: `${n} is below the minimum ${schema.minimum}` });
      }
      if (
        schema.maximum !== undefined &&
        (schema.exclusiveMaximum === true ? n >= schema.maximum : n > schema.maximum)
      ) {
        issues.push({ at, message: `${n} is above the maximum ${schema.maximum}` });
      }
      if (schema.format === 'int32' && (n < -(2 ** 31) || n >= 2 ** 31))
        issues.push({ at, message: `${n} is not an int32` });
    }
  }

  private checkObject(
    schema: Schema,
    value: Record<string, unknown>,
    at: string,
    options: ValidateOptions,
    issues: SpecIssue[],
  ): void {
    const properties: Record<string, Schema> = schema.properties ?? {};
    const resolvedProp = (name: string): Schema => {
      const p = properties[name];
      return p?.$ref ? this.resolve(p.$ref) : p;
    };
    const hiddenFlag = options.mode === 'request' ? 'readOnly' : 'writeOnly';
    for (const name of schema.required ?? []) {
      if (
        properties[name] !== undefined &&
        (resolvedProp(name)[hiddenFlag] === true || properties[name][hiddenFlag] === true)
      )
        continue;
      if (!(name in value)) issues.push({ at: `${at}.${name}`, message: 'is required' });
    }
    for (const [name, item] of Object.entries(value)) {
      const propSchema = properties[name];
      if (propSchema !== undefined) {
        if (options.mode === 'request' && propSchema.readOnly === true) {
          issues.push({ at: `${at}.${name}`, message: 'is read-only and must not be sent' });
        }
        this.check(propSchema, item, `${at}.${name}`, options, issues);
        continue;
      }
      const extra = schema.additionalProperties;
      if (
        extra === false ||
        (extra === undefined && options.forbidUnknownProperties === true && !schema.allOf)
      ) {
        issues.push({ at: `${at}.${name}`, message: 'is not a known property' });
      } else if (typeof extra === 'object' && extra !== null) {
        this.check(extra, item, `${at}.${name}`, options, issues);
      }
    }
  }
}

export function formatIssues(issues: readonly SpecIssue[]): string {
  return issues.map((i) => `${i.at}: ${i.message}`).join('; ');
}

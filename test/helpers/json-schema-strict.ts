/**
 * Validates a document against a JSON schema with ajv (draft 2020-12) and, because schemas generated from Go
 * structs (Cortex's) do not forbid unknown keys, also reports every key that the schema does not declare
 * (following $ref and the declared `properties`), so a misspelt option fails the test like it fails Cortex.
 */
import Ajv2020 from 'ajv/dist/2020.js';

type Schema = Record<string, any>;

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; cur && typeof cur.$ref === 'string' && i < 20; i++) {
    const path = (cur.$ref as string).replace(/^#\//, '').split('/');
    cur = path.reduce((o: any, k) => o?.[k], root);
  }
  return cur ?? {};
}

export function unknownKeys(root: Schema, schema: Schema, value: unknown, at = ''): string[] {
  const s = resolve(root, schema);
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value))
    return s.items ? value.flatMap((v, i) => unknownKeys(root, s.items, v, `${at}/${i}`)) : [];
  if (!s.properties) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (!(k in s.properties)) out.push(`${at}/${k}`);
    else out.push(...unknownKeys(root, s.properties[k], v, `${at}/${k}`));
  }
  return out;
}

export function validateStrict(schema: Schema, value: unknown): string[] {
  const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  const problems = validate(value)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  return [...problems, ...unknownKeys(schema, schema, value).map((k) => `${k}: not in the schema`)];
}

import type { TSchema } from 'typebox';

/**
 * Query strings arrive as text. Ajv's own coercion turns "1e309" into Infinity and lets it past
 * `maximum`, so grim converts strictly itself: only plain decimal integers become integers, only
 * finite decimals become numbers, only "true"/"false" become booleans. Anything else stays a string
 * and fails validation with a clear message.
 */
export function coerceQuery(
  schema: TSchema | undefined,
  query: Record<string, unknown>,
): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { type?: string }> } | undefined)?.properties;
  if (!props || !query) return query;
  const out: Record<string, unknown> = { ...query };
  for (const [k, v] of Object.entries(query)) {
    const type = props[k]?.type;
    if (typeof v !== 'string') continue;
    if (type === 'integer' && /^-?\d{1,15}$/.test(v)) out[k] = Number(v);
    else if (type === 'number' && /^-?\d{1,15}(\.\d{1,15})?$/.test(v)) out[k] = Number(v);
    else if (type === 'boolean' && (v === 'true' || v === 'false')) out[k] = v === 'true';
  }
  return out;
}

/** `grim run web1,web2 -- cmd`, `grim run group:web -- cmd`, `grim run tier=db -- cmd` */
export function parseTarget(spec: string): { nodes?: string[]; groups?: string[]; selector?: string } {
  if (spec.startsWith('group:')) return { groups: spec.slice(6).split(',').filter(Boolean) };
  if (spec.includes('=')) return { selector: spec };
  return { nodes: spec.split(',').filter(Boolean) };
}

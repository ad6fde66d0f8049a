/** "tier=web, zone=a" -> { tier: 'web', zone: 'a' }; problems are reported, not guessed around. */
export function parseLabels(text: string): { labels: Record<string, string>; problems: string[] } {
  const labels: Record<string, string> = {};
  const problems: string[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) problems.push(`"${part}" is not key=value`);
    else labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { labels, problems };
}

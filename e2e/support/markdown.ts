// What the package tests read out of its markdown: the links (outside code),
// the heading anchors a link may name, and the blocks marked as full examples.

function withoutFences(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '');
}

/** The text with fenced code blocks and inline code blanked, so code is not read as links. */
function prose(md: string): string {
  return withoutFences(md).replace(/`[^`]*`/g, '');
}

/** The anchors GitHub (and npm's page) give the headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutFences(md).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!
      .replace(/`/g, '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Every link target: inline `[text](target)`, reference `[name]: target` and `<a href>`. */
export function markdownLinks(md: string): string[] {
  const text = prose(md);
  return [
    ...[...text.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((m) => m[1]!),
  ];
}

export interface FullExample {
  name: string;
  code: string;
  /** The packages its `npm install ...` line names, token-broker excluded. */
  dependencies: string[];
}

/**
 * The code blocks marked `<!-- full-example: name -->`, each with the packages of the
 * `npm install` the README gives for it (in the paragraph that introduces it).
 */
export function fullExamples(md: string): FullExample[] {
  return [...md.matchAll(/<!-- full-example: ([\w-]+) -->\n```js\n([\s\S]*?)^```/gm)].map((m) => {
    const before = md.slice(0, m.index).trimEnd();
    const intro = before.slice(before.lastIndexOf('\n\n'));
    const install = /`npm install ([^`]+)`/.exec(intro);
    if (!install) throw new Error(`full example ${m[1]} has no "npm install" line before it`);
    return { name: m[1]!, code: m[2]!, dependencies: install[1]!.split(/\s+/).filter((p) => p !== 'token-broker') };
  });
}

// Every relative link of README.md, CHANGELOG.md and docs/**/*.md points at a file or folder that
// exists, and a `#fragment` into a Markdown file at one of its headings (as GitHub names them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const repoRoot = path.join(import.meta.dirname, '..', '..');

function markdownFiles(): string[] {
  const files = ['README.md', 'CHANGELOG.md'].map((name) => path.join(repoRoot, name));
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) files.push(full);
    }
  };
  walk(path.join(repoRoot, 'docs'));
  return files.filter((file) => fs.existsSync(file));
}

/** The text without fenced code blocks and code spans, where `](…)` is not a link. */
const withoutCode = (text: string): string =>
  text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');

/** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces as `-`. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const fenced = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of fenced.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const plain = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

interface Link {
  readonly file: string;
  readonly target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  for (const match of withoutCode(fs.readFileSync(file, 'utf8')).matchAll(
    /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g,
  )) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    links.push({ file, target });
  }
  return links;
}

describe('links between README.md and docs/', () => {
  const files = markdownFiles();
  const links = files.flatMap(relativeLinks);

  it('finds the links of README.md and of the pages under docs/', () => {
    assert.ok(links.some((link) => link.file.endsWith('README.md') && link.target.startsWith('docs/')));
    assert.ok(links.some((link) => link.file.includes(`${path.sep}docs${path.sep}`)));
  });

  it('each points at a file or folder that exists', () => {
    const broken = links.filter(({ file, target }) => {
      const [where] = target.split('#');
      return where !== '' && !fs.existsSync(path.resolve(path.dirname(file), decodeURI(where!)));
    });
    assert.deepEqual(
      broken.map(({ file, target }) => `${path.relative(repoRoot, file)}: ${target}`),
      [],
    );
  });

  it('each #fragment into a Markdown file names one of its headings', () => {
    const broken = links.filter(({ file, target }) => {
      const [where, fragment] = target.split('#');
      if (fragment === undefined) return false;
      const page = where === '' ? file : path.resolve(path.dirname(file), decodeURI(where!));
      if (!page.endsWith('.md') || !fs.existsSync(page)) return false;
      return !anchorsOf(fs.readFileSync(page, 'utf8')).has(fragment);
    });
    assert.deepEqual(
      broken.map(({ file, target }) => `${path.relative(repoRoot, file)}: ${target}`),
      [],
    );
  });
});

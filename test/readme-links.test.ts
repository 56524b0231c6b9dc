/**
 * Every link in the README, and in the documents the package ships, works where a user reads it: on npm's
 * page and in node_modules/torchrnn. A relative link must name a file the tarball holds (as `npm pack`
 * lists it, so a `files` entry that stops matching is caught), and an anchor a heading of its target; a
 * link to something only a clone has must be absolute, into the repository, and name a file that exists.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO, run, userEnv } from './helpers/package_sandbox';

/** Where absolute links to the repository's own files point (`blob/main/<path>` or `tree/main/<dir>`). */
const REPOSITORY_FILES = /^https:\/\/github\.com\/torchrnn\/torchrnn\/(?:blob|tree)\/main\/([^#?]+)/;

interface Link {
  /** The markdown file the link is in, relative to the repository. */
  from: string;
  target: string;
  line: number;
}

/** The paths `npm pack` puts in the tarball (no scripts run: `prepare` would compile dist/). */
function packedFiles(): string[] {
  const report = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], REPO, userEnv())) as {
    files: { path: string }[];
  }[];
  return report[0].files.map((f) => f.path);
}

/** The markdown with fenced code blocks and inline code blanked out, lines kept in place. */
function proseOf(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
}

/** Inline links and images (`[text](target)`, `![alt](target "title")`) and reference definitions. */
function linksIn(from: string): Link[] {
  const lines = proseOf(fs.readFileSync(path.join(REPO, from), 'utf8')).split('\n');
  const links: Link[] = [];
  lines.forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ from, target: match[1], line: index + 1 });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (definition) links.push({ from, target: definition[1], line: index + 1 });
  });
  return links;
}

/** GitHub's (and npm's) anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every anchor the headings of a markdown file define, repeats numbered as GitHub numbers them. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseOf(fs.readFileSync(file, 'utf8')).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function describeLink(link: Link): string {
  return `${link.from}:${link.line} → ${link.target}`;
}

const files = packedFiles();
const documents = files.filter((f) => f.endsWith('.md'));
const links = documents.flatMap(linksIn);
const isRelative = (target: string): boolean => !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target);

describe('links in the shipped documents', () => {
  it('are read from the README and from every markdown file the package ships', () => {
    expect(documents).toContain('README.md');
    expect(documents).toContain('docs/INSTALL.md');
    // The README links its documentation and its benchmark; a parser that found nothing would pass vacuously.
    expect(links.filter((l) => l.from === 'README.md' && isRelative(l.target)).length).toBeGreaterThan(5);
    expect(links.filter((l) => REPOSITORY_FILES.test(l.target)).length).toBeGreaterThan(0);
  });

  it('point, when relative, to files the tarball holds', () => {
    const broken = links
      .filter((l) => isRelative(l.target) && !l.target.startsWith('#'))
      .filter((l) => {
        const target = decodeURIComponent(l.target.split('#')[0]);
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(l.from), target)).replace(/\/$/, '');
        return !files.some((f) => f === resolved || f.startsWith(`${resolved}/`));
      })
      .map(describeLink);
    expect(broken).toEqual([]);
  });

  it('name, after a #, a heading of the document they point to', () => {
    const broken = links
      .filter((l) => isRelative(l.target) && l.target.includes('#'))
      .filter((l) => {
        const [file, anchor] = l.target.split('#');
        const document = file === '' ? l.from : path.posix.join(path.posix.dirname(l.from), file);
        if (!document.endsWith('.md') || !fs.existsSync(path.join(REPO, document))) return false;
        return !anchorsOf(path.join(REPO, document)).has(decodeURIComponent(anchor).toLowerCase());
      })
      .map(describeLink);
    expect(broken).toEqual([]);
  });

  it('into the repository, name files that exist', () => {
    const broken = links
      .filter((l) => REPOSITORY_FILES.test(l.target))
      .filter((l) => !fs.existsSync(path.join(REPO, decodeURIComponent((REPOSITORY_FILES.exec(l.target) as RegExpExecArray)[1]))))
      .map(describeLink);
    expect(broken).toEqual([]);
  });

  it('into the repository, agree with package.json\'s repository, homepage and bugs', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
      repository: { url: string };
      homepage: string;
      bugs: { url: string };
    };
    const home = 'https://github.com/torchrnn/torchrnn';
    expect(manifest.repository.url).toBe(`git+${home}.git`);
    expect(manifest.homepage.startsWith(home)).toBe(true);
    expect(manifest.bugs.url).toBe(`${home}/issues`);
  });
});

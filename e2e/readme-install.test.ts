// The README's install note on better-sqlite3's install script states what
// the npm in use says of itself, not a guess: re-read when npm changes.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const install = () => readFileSync('README.md', 'utf8').split('\n## ')[1]!;

test('the install section tells an npm 11 user how to allow better-sqlite3\'s install script, as npm 11 documents it', () => {
  const section = install();
  expect(section).toContain('npm approve-scripts better-sqlite3');
  expect(section).toContain('npm rebuild better-sqlite3');
  const version = execFileSync('npm', ['-v'], { encoding: 'utf8' }).trim();
  test.skip(!version.startsWith('11.'), `npm ${version}: the note is about npm 11`);
  // What the note says npm 11 does: scripts still run by default, the field is advisory, a later release blocks them.
  const help = execFileSync('npm', ['help', 'approve-scripts'], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat' } }).replace(/\s+/g, ' ');
  expect(help).toContain('this field is advisory: install scripts still run by default');
  expect(help).toContain('A future release will block unreviewed install scripts');
});

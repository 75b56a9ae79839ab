// Cookie tossing: a page on a sibling subdomain can set a cookie with the
// refresh cookie's name, `Domain=<parent>` and a longer `Path`, which the
// browser then sends first. Whichever one a parser keeps, the request cannot be
// trusted to name the session the browser's own login made: login and refresh
// refuse it and change nothing; logout revokes every family it names.

import { parse } from 'cookie';

/**
 * How many cookies named `name` a Cookie header carries. Only names are
 * compared (split on `;`, the header's separator, and on the first `=`);
 * values are never decoded, so no parser's choice of duplicate matters.
 */
export function cookieCount(header: string | undefined, name: string): number {
  if (!header) return 0;
  let n = 0;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if ((eq === -1 ? pair : pair.slice(0, eq)).trim() === name) n++;
  }
  return n;
}

/** Every value of the cookies named `name`, each pair parsed (and decoded) on its own. */
export function cookieValues(header: string | undefined, name: string): string[] {
  return (header ?? '').split(';').flatMap((pair) => {
    const value = parse(pair)[name];
    return value === undefined ? [] : [value];
  });
}

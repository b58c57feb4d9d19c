/**
 * Test hook: `?fault=<panel title>` makes that panel throw while rendering, so the e2e suite can
 * check that the error boundary keeps the rest of the page working. Inert without the parameter.
 */
const faulty = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('fault');

export function PanelFault({ name }: { name: string }) {
  if (faulty !== null && faulty === name) throw new Error(`test fault injected into ${name}`);
  return null;
}

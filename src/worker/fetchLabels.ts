/** Labels over HTTP for registry models whose class names are not bundled (e.g. Darknet-tiny). */
import { CamError } from '../engine/errors';
import { parseLabels } from '../engine/model/custom';

export async function fetchLabels(url: string): Promise<string[]> {
  let res: Response;
  try {
    res = await fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (e) {
    throw new CamError(`The labels file could not be downloaded from ${url} (network or CORS error: ${(e as Error).message})`, 'network');
  }
  if (!res.ok) throw new CamError(`The labels file could not be downloaded from ${url} (HTTP ${res.status})`, 'network');
  return parseLabels(await res.text(), url.split('/').pop() || 'labels');
}

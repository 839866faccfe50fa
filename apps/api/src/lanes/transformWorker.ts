/**
 * Piscina task of the `thread` lane: the CPU part of a run (parse the stored `info` exactly, then
 * transform it), executed in a worker thread so a heavy `info` does not stall the API's event loop.
 */
import { transformInfoJson } from '@tasklane/etl';

export default function transform(infoJson: string) {
  return transformInfoJson(infoJson);
}

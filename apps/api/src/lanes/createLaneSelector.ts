import type { Lane as LaneName } from '@tasklane/config';
import { LANES } from '@tasklane/config';
import type { Context } from 'koa';
import { ValidationError } from '../http/httpErrors.ts';
import type { Lane } from './Lane.ts';

/** The request header that picks a lane for one write (`?lane=` wins when both are sent). */
export const LANE_HEADER = 'Tasklane-Lane';

/**
 * Picks the lane of a write: `?lane=<name>`, else the `Tasklane-Lane` header, else the
 * deployment default (`ETL_LANE`). A lane that is unknown or not in `ETL_LANES_ALLOWED` is a 422
 * naming the allowed ones.
 */
export function createLaneSelector(deps: {
  lanes: ReadonlyMap<LaneName, Lane>;
  allowed: readonly LaneName[];
  defaultLane: LaneName;
}): (ctx: Context) => Lane {
  const allowed = deps.allowed.filter((name) => deps.lanes.has(name));
  return (ctx) => {
    const query = ctx.query.lane;
    const asked = (Array.isArray(query) ? query[0] : query) ?? (ctx.get(LANE_HEADER) || undefined);
    const name = asked ?? deps.defaultLane;
    const lane = allowed.includes(name as LaneName) ? deps.lanes.get(name as LaneName) : undefined;
    if (!lane) {
      throw new ValidationError(`lane ${JSON.stringify(name)} is not allowed here; allowed lanes: ${allowed.join(', ')}`, {
        lane: name,
        allowed,
        known: LANES,
      });
    }
    ctx.state.lane = lane.name; // labels the request's metrics
    return lane;
  };
}

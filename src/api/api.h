/* The API as http/ sees it: the route table, the authentication hook and the horizon's
 * upkeep. */
#ifndef PLANNER_API_API_H
#define PLANNER_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "http/router.h"

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* Idempotency-Key handling around POST handlers (api/idempotency.c): begin returns true when
 * it has answered (a replayed answer or an error) and the handler must not run; end records
 * the handler's answer, or releases the key when the request failed. */
bool api_idempotency_begin(struct http_request *rq);
void api_idempotency_end(struct http_request *rq);
/* Let go of the request's Idempotency-Key without storing the answer: for answers that hold a
 * secret the database must not keep, such as a feed token, and for a request handed to
 * another thread, which claims it again (http/server.c).  A retry with the key then runs. */
void api_idempotency_release(struct http_request *rq);

/* Resolve the request's bearer token into rq->user_id, session_id and role.  PL_EAUTH (401)
 * when it is missing, malformed, unknown, expired or its user is deactivated. */
PL_MUST_CHECK int api_authenticate(struct http_request *rq, struct pl_error *err);

/* After a route's handler: if it was a write that gave its transaction up because the
 * recurring series reach less far than it needs (api_materialize), extend them in short
 * transactions, forget its answer, and return true: the caller runs the handler again, once.
 * False otherwise (with the answer to an error in extending set). */
bool api_extend_pending(struct http_request *rq);

/* Keep every series expanded comfortably past the horizon ahead of now, off the request path:
 * when what exists reaches less than 15 days past the horizon, extend every series to 30 days
 * past it, in short transactions (100 series, or 2,000 new occurrences, each) and at most 10
 * per call.  Each worker's idle thread
 * calls it once a second on a connection of its own (http/server.c), so that requests find
 * the work done. */
PL_MUST_CHECK int api_materialize_ahead(struct store *db, const struct config *cfg,
                                        int64_t now_us, struct pl_error *err);

#endif

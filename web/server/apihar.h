/* SPDX-License-Identifier: MIT */
/* apihar.h - HAR over the API (apihar.c): GET /api/har and POST /api/har, whose import runs on
 * a worker of its own; api.h's api_import_poll(), api_import_finish() and api_import_stop()
 * hand on to apihar_poll(), apihar_finish() and apihar_stop(). */
#ifndef APIHAR_H
#define APIHAR_H

#include "api-t.h"

/* GET /api/har: rq->filter's flows as one HAR document, r->har pulled piece by piece by the
 * web thread (a download named flowscope-DATE.har); 400 for a bad filter. */
void apihar_get(struct api *a, const struct api_request *rq, struct api_reply *r);
/* POST /api/har: takes rq's body (through rq->take_body when it can) and starts its import;
 * r->import is set, the answer comes through api_import_finish(); 503 without a store. */
void apihar_post(struct api *a, const struct api_request *rq, struct api_reply *r);
/* api_import_poll() (api.h): after a wake, calls ready(arg, owner) (unless ready is NULL) once
 * for each import whose answer is ready and still wanted; frees the imports that ended after
 * their reply was cleared. */
void apihar_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg);
/* api_import_finish() (api.h): 1 when r->import is done, r then holding its answer and
 * r->import NULL; 0 while it runs. */
int apihar_finish(struct api *a, struct api_reply *r);
/* api_import_stop() (api.h): cancels every import and joins its worker; wake is never called
 * afterwards. */
void apihar_stop(struct api *a);
/* The reply holding imp let go: the import is cancelled and freed once its worker ended. */
void apihar_cancel(struct apihar_import *imp);
/* api_clear()'s part: stops every import (apihar_stop()) and frees them all. */
void apihar_clear(struct api *a);

#endif

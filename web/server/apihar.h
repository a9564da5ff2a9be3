/* SPDX-License-Identifier: MIT */
/* apihar.h - HAR over the API (apihar.c): GET /api/har and POST /api/har, whose import runs on
 * a worker of its own; api.h's api_import_poll(), api_import_finish() and api_import_stop()
 * are apihar.c's too. */
#ifndef APIHAR_H
#define APIHAR_H

#include "api.h"

/* GET /api/har: rq->filter's flows as one HAR document, r->har pulled piece by piece by the
 * web thread (a download named flowscope-DATE.har); 400 for a bad filter. */
void apihar_get(struct api *a, const struct api_request *rq, struct api_reply *r);
/* POST /api/har: takes rq's body (through rq->take_body when it can) and starts its import;
 * r->import is set, the answer comes through api_import_finish(); 503 without a store. */
void apihar_post(struct api *a, const struct api_request *rq, struct api_reply *r);
/* The reply holding imp let go: the import is cancelled and freed once its worker ended. */
void apihar_cancel(struct api_import *imp);
/* api_clear()'s part: stops every import (api_import_stop()) and frees them all. */
void apihar_clear(struct api *a);

#endif

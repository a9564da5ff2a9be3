/* SPDX-License-Identifier: MIT */
/* apirules.h - the API's calls on the live rules and the filter language's help (apirules.c). */
#ifndef APIRULES_H
#define APIRULES_H

#include "api-t.h"

/* GET /api/rules: the rules last PUT, else those stored (read through rd, which may be NULL
 * when a->rules is set), else the empty default. */
void apirules_get(struct api *a, struct store_reader *rd, struct api_reply *r);
/* PUT /api/rules: parsed, applied (compiled once), stored; 400 with {"error"} keeps the old. */
void apirules_put(struct api *a, const struct api_request *rq, struct api_reply *r);
/* GET /api/filter-help: the filter operators from the parser's own table. */
void apirules_filter_help(struct api_reply *r);

#endif

/* SPDX-License-Identifier: MIT */
/* apioptions.h - GET and PUT (or PATCH) /api/options: the live options (liveopts.h). */
#ifndef APIOPTIONS_H
#define APIOPTIONS_H

#include "api-t.h"

/* GET: the options last accepted, else those stored (read through rd, which may be NULL when
 * a->options is set), else the defaults. PUT or PATCH: the keys given replace those options,
 * the others are kept; checked (400 with {"error"} changes nothing), applied to the proxy and
 * the store's body limit, stored, and answered whole. Other methods: 405. */
void apioptions_handle(struct api *a, struct store_reader *rd, const struct api_request *rq,
		       struct api_reply *r);

#endif

/* SPDX-License-Identifier: MIT */
/* harext.h - the "_flowscope" member of an exported HAR entry: what HAR has no field for
 * (exact microsecond timestamps, client and server addresses, the request target, TLS details,
 * tunnel byte counts, the flags that survive, truncation and "not decoded" marks). The export
 * writes it and the import reads it back, side by side here so that the two cannot disagree.
 * Internal to db/. */
#ifndef HAREXT_H
#define HAREXT_H

#include "flow.h"

#include <jansson.h>

/* A new object with f's extras. raw_req, raw_resp: that side's body did not decode and went
 * out as stored. */
json_t *harext_build(const struct flow *f, int raw_req, int raw_resp);

/* Reads p (an entry's "_flowscope": a hint, so anything but an object, and members of the
 * wrong type, are ignored) into f: timestamps, addresses, target, TLS, bytes, the kept flags
 * (those of f are replaced, by none when p has no "flags"), the edit marks (modified,
 * duplicate: set when true, cleared otherwise), truncation marks; sets *raw_req,
 * *raw_resp when p says a body went out as stored (left alone otherwise). */
void harext_read(json_t *p, struct flow *f, int *raw_req /* OUT */, int *raw_resp /* OUT */);

#endif

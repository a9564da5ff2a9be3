/* SPDX-License-Identifier: MIT */
/* apica.h - GET /api/ca.pem and GET /api/ca.der: flowscope's CA certificate for download. */
#ifndef APICA_H
#define APICA_H

#include "api-t.h"

/* Fills r with a's CA certificate: PEM as kept, or (der != 0) its DER form, which the CA
 * page's steps for Windows and Android use. 404 when there is no CA, 500 when the PEM does
 * not parse. */
void apica_reply(const struct api *a, int der, struct api_reply *r);

#endif

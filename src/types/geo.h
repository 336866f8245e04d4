/* geo: the GEO commands (GEOADD, GEOSEARCH, GEORADIUS...) over sorted sets
 * scored by 52-bit geohashes (geohash.h). */
#ifndef RUNNEL_TYPES_GEO_H
#define RUNNEL_TYPES_GEO_H

#include "protocol/command.h"

extern struct command geo_commands[];

#endif

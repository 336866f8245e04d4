/* lcs: LCS, the longest common subsequence of two strings. */
#ifndef RUNNEL_TYPES_LCS_H
#define RUNNEL_TYPES_LCS_H

#include "protocol/command.h"

extern struct command lcs_commands[];

#endif

#include "persistence/info.h"

#include "persistence/aof.h"
#include "persistence/snapshot.h"

str persistence_info(str s)
{
    s = snapshot_info(s);
    return aof_info(s);
}

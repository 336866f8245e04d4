#include "persistence/info.h"

#include "persistence/aof.h"
#include "persistence/loading.h"
#include "persistence/snapshot.h"

str persistence_info(str s)
{
    s = snapshot_info(s);
    s = aof_info(s);
    return loading_info(s);
}

#include "types/types.h"

#include "db/object.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/stream.h"
#include "types/zset.h"

static const struct object_ops string_ops = {.name = "string"};

void types_init(void)
{
    object_register_type(OBJ_STRING, &string_ops);
    list_type_register();
    hash_type_register();
    hash_expiry_init();
    set_type_register();
    stream_type_register();
    zset_type_register();
}

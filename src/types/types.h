/* types: registers every data type's value operations with the keyspace. */
#ifndef RUNNEL_TYPES_TYPES_H
#define RUNNEL_TYPES_TYPES_H

void types_init(void);

#endif

/*
 * acu_type.h - Aculab V6 common declarations (the Linux user-space
 * branch): the ACU_* types, error codes and struct helpers the resource
 * management API (res_lib.h) uses.
 */
#ifndef PROSODY_ACU_TYPE_H
#define PROSODY_ACU_TYPE_H

#include <stdint.h>
#include <string.h>

typedef char ACU_CHAR;
typedef unsigned char ACU_UCHAR;
typedef int32_t ACU_INT;
typedef int32_t ACU_LONG;
typedef uint32_t ACU_UINT;
typedef uint32_t ACU_ULONG;
typedef uint64_t ACU_ULONGLONG;
typedef ACU_ULONGLONG ACU_POINTER;
typedef ACU_ULONGLONG ACU_ACT; /* 64-bit application context token */
#ifndef _ACU_CARD_ID_
#define _ACU_CARD_ID_
typedef ACU_UINT ACU_CARD_ID;
#endif
typedef ACU_INT ACU_ERR;
typedef ACU_UINT ACU_RESOURCE_ID;
typedef ACU_UINT ACU_EVENT_QUEUE;

#define ACU_EXPORT
#define ACU_PACK_DIRECTIVE __attribute__((packed))

#define INIT_ACU_STRUCT(struct_p)             \
  {                                           \
    memset(struct_p, 0, sizeof(*(struct_p))); \
    (struct_p)->size = sizeof(*(struct_p));   \
  }
#define INIT_ACU_SM_STRUCT(struct_p) \
  { memset(struct_p, 0, sizeof(*(struct_p))); }

enum {
  ACU_MAX_HWVER = 20,
  ACU_MAX_IP_ADDRESS = 60,
  ACU_MAX_SERIAL = 20,
};

enum {
  ERR_NO_ERROR = 0,
  ERR_PARM = -5,
  ERR_NO_SYS_RES = -31,
  ERR_UNSUPPORTED = -52,
  ERR_NOT_IMPLEMENTED = -53,
  ERR_FAIL = -501,
  ERR_NO_MEMORY = -502,
  ERR_CARD_NOT_FOUND = -503,
  ERR_INVALID_RESOURCE = -505,
  ERR_ALREADY_OPEN = -506,
  ERR_SERVER_NOT_RESPONDING = -507,
  ERR_TIMEOUT = -509,
  ERR_STILL_IN_USE = -510,
  ERR_INVALID_CARD = -511,
  ERR_BUFF_SIZE = -513,
};

#define ACU_SUCCESS(x) (x >= 0)
#define ACU_FAILURE(x) (x < 0)

#endif /* PROSODY_ACU_TYPE_H */

/*
 * res_lib.h - Aculab V6 resource management declarations: the system
 * snapshot and card opening, and the calls that open a card for Prosody.
 *
 * In this software implementation there is one card: serial "SW-PROSODY-0",
 * card id 0, the software Prosody processor (see prosgen.h). Opening it is
 * optional (card 0 is always open), so applications that do and
 * applications that do not both run.
 */
#ifndef PROSODY_RES_LIB_H
#define PROSODY_RES_LIB_H

#include "acu_type.h"

#ifdef __cplusplus
extern "C" {
#endif

enum eACU_RESOURCE_CONSTANTS {
  MAX_SNAPSHOT_CARDS = 20,
  MAX_RESOURCE_SERIAL = 30,
  ACU_MAX_RESOURCE_NAME = 100,
  ACU_MAX_CARD_NAME = 20,
  ACU_MAX_CARD_DESC = 40,
  ACU_MAX_CARD_KEY = 60,
  ACU_RESOURCE_CALL = 0x01,
  ACU_RESOURCE_SWITCH = 0x02,
  ACU_RESOURCE_SPEECH = 0x04,
  ACU_RESOURCE_IP_TELEPHONY = 0x08,
  ACU_RESOURCE_TRM = 0x20,
  ACU_RESOURCE_MG = 0x40,
  ACU_RESOURCE_STUN = 0x80,
  ACU_RESOURCE_SOFT_DSP = 0x100,
  ACU_RESOURCE_HPI = 0x200,
  ACU_PROSODY_PCI_CARD = 0x10,
  ACU_PROSODY_CPCI_CARD = 0x20,
  ACU_PROSODY_S_CARD = 0x22,
  ACU_PROSODY_X_CARD = 0x24,
  ACU_PROSODY_S_V3_CARD = 0x26,
};

typedef struct tACU_CARD_POSITION_PCI {
  ACU_UINT bus;
  ACU_UINT device;
  ACU_UINT function;
} ACU_PACK_DIRECTIVE ACU_CARD_POSITION_PCI;

typedef struct tACU_CARD_POSITION_GEOGRAPHIC {
  ACU_UINT slot_id;
  ACU_UINT shelf_id;
  ACU_UINT pos_id;
  ACU_UINT reserved_1;
  ACU_UINT reserved_2;
  ACU_UINT reserved_3;
} ACU_PACK_DIRECTIVE ACU_CARD_POSITION_GEOGRAPHIC;

typedef union tACU_CARD_POSITION_UNION {
  ACU_CARD_POSITION_PCI pci;
  ACU_CARD_POSITION_GEOGRAPHIC geographic;
} ACU_PACK_DIRECTIVE ACU_CARD_POSITION_UNION;

typedef struct tACU_CARD_POSITION {
  ACU_UINT pos_type;
  ACU_CARD_POSITION_UNION pos;
} ACU_PACK_DIRECTIVE ACU_CARD_POSITION;

typedef struct tACU_SNAPSHOT_PARMS {
  ACU_ULONG size;
  ACU_UINT count;
  ACU_CHAR serial_no[MAX_SNAPSHOT_CARDS][MAX_RESOURCE_SERIAL];
} ACU_PACK_DIRECTIVE ACU_SNAPSHOT_PARMS;

typedef struct tACU_CARD_INFO_PARMS {
  ACU_ULONG size;
  ACU_CARD_ID card_id;                     /* IN */
  ACU_UINT card_type;                      /* OUT */
  ACU_UINT resources_available;            /* OUT */
  ACU_CHAR serial_no[MAX_RESOURCE_SERIAL]; /* OUT */
  ACU_CHAR hw_version[ACU_MAX_HWVER];      /* OUT */
  ACU_ACT app_context_token;               /* OUT */
  ACU_CARD_POSITION hw_position;           /* OUT */
  ACU_CHAR card_name[ACU_MAX_CARD_NAME];   /* OUT */
  ACU_CHAR card_desc[ACU_MAX_CARD_DESC];   /* OUT */
  ACU_CHAR ip_address[ACU_MAX_IP_ADDRESS]; /* OUT */
  ACU_CHAR card_key[ACU_MAX_CARD_KEY];     /* OUT */
  ACU_UINT ip_port;                        /* OUT */
  ACU_UINT reserved;
  ACU_UINT px_card_type; /* OUT */
} ACU_PACK_DIRECTIVE ACU_CARD_INFO_PARMS;

typedef struct tACU_OPEN_CARD_PARMS {
  ACU_ULONG size;
  ACU_CHAR serial_no[ACU_MAX_RESOURCE_NAME]; /* IN/OUT */
  ACU_CARD_ID card_id;                       /* OUT */
  ACU_EVENT_QUEUE notification_queue;        /* IN */
  ACU_ACT app_context_token;                 /* IN */
} ACU_PACK_DIRECTIVE ACU_OPEN_CARD_PARMS;

typedef struct tACU_CLOSE_CARD_PARMS {
  ACU_ULONG size;
  ACU_CARD_ID card_id; /* the card to close (the Aculab header comments it OUT) */
} ACU_PACK_DIRECTIVE ACU_CLOSE_CARD_PARMS;

/** Functions for opening Prosody cards that are no longer in the TiNG library */
typedef struct tACU_OPEN_PROSODY_PARMS {
  ACU_ULONG size;
  ACU_CARD_ID card_id;
} ACU_OPEN_PROSODY_PARMS;

typedef struct tACU_CLOSE_PROSODY_PARMS {
  ACU_ULONG size;
  ACU_CARD_ID card_id;
} ACU_CLOSE_PROSODY_PARMS;

ACU_INT ACU_EXPORT acu_open_prosody(ACU_OPEN_PROSODY_PARMS* openp);
ACU_INT ACU_EXPORT acu_close_prosody(ACU_CLOSE_PROSODY_PARMS* closep);
const ACU_CHAR* ACU_EXPORT acu_error_desc(ACU_ERR error);
ACU_ERR ACU_EXPORT acu_get_system_snapshot(ACU_SNAPSHOT_PARMS* snapshotp);
ACU_ERR ACU_EXPORT acu_open_card_65(ACU_OPEN_CARD_PARMS* openp);
#define acu_open_card acu_open_card_65
ACU_ERR ACU_EXPORT acu_close_card(ACU_CLOSE_CARD_PARMS* closep);
ACU_ERR ACU_EXPORT acu_get_card_info_65(ACU_CARD_INFO_PARMS* infop);
#define acu_get_card_info acu_get_card_info_65

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_RES_LIB_H */

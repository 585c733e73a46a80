/*
 * prosgen.h - Prosody generic API: cards, modules, channels, datafeeds,
 * events and error names. Declarations follow Aculab's TiNG prosgen.h.
 *
 * In this software implementation card 0 is the software processor and is
 * always open; see prosody_sw.h for the few extension calls.
 */
#ifndef PROSODY_PROSGEN_H
#define PROSODY_PROSGEN_H

#include "smtypes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define kSMMaxSerialNoText 16

enum kSMCarrierCardType {
    kSMCarrierCardTypeYetUnknown,
    kSMCarrierCardTypeISAS2,
    kSMCarrierCardTypeBR4,
    kSMCarrierCardTypeBR8,
    kSMCarrierCardTypePCIP1,
    kSMCarrierCardTypePCIC1,
    kSMCarrierCardTypePS,
    kSMCarrierCardTypePX,
};

typedef struct sm_card_info_parms {
    tSMCardId card;
    enum kSMCarrierCardType card_type;
    tSM_INT card_detected;
    tSM_INT module_count;
    tSM_UT32 physical_address;
    tSM_UT32 io_address;
    tSM_UT32 physical_irq;
    char serial_no[kSMMaxSerialNoText];
} SM_CARD_INFO_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_get_card_info(struct sm_card_info_parms *cardinfop);

typedef struct sm_open_module_parms {
    tSMCardId card_id;
    tSM_UT32 module_ix;
    tSMModuleId module_id;
} SM_OPEN_MODULE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_open_module(struct sm_open_module_parms *module_parmsp);

typedef struct sm_close_module_parms {
    tSMModuleId module_id;
} SM_CLOSE_MODULE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_close_module(struct sm_close_module_parms *closep);

typedef struct sm_close_prosody_parms {
    tSMCardId card_id;
} SM_CLOSE_PROSODY_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_close_prosody(struct sm_close_prosody_parms *closep);

ACUAPI int ACUTiNG_WINAPI sm_get_channel_module_id(tSMChannelId channel);
ACUAPI int ACUTiNG_WINAPI sm_get_module_card_id(tSMModuleId mod_id);

/* Channels */

enum kSMChannelType {
    kSMChannelTypeInput,
    kSMChannelTypeOutput,
    kSMChannelTypeHalfDuplex,
    kSMChannelTypeFullDuplex,
};

typedef struct sm_channel_alloc_placed_parms {
    tSMChannelId channel;                   /* out */
    enum kSMChannelType type;               /* in */
    tSMModuleId module;                     /* in */
    tSM_INT caps_mask;                      /* in: ignored */
} SM_CHANNEL_ALLOC_PLACED_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_alloc_placed(struct sm_channel_alloc_placed_parms *channelp);
ACUAPI int ACUTiNG_WINAPI sm_channel_release(tSMChannelId channel);
ACUAPI int ACUTiNG_WINAPI sm_get_channel_type(tSMChannelId channel);

typedef struct sm_channel_info_parms {
    tSMChannelId channel;
    tSM_INT card;
    tSM_INT ost;
    tSM_INT ots;
    enum kSMChannelType otype;
    tSM_INT ist;
    tSM_INT its;
    enum kSMChannelType itype;
    tSM_INT group;
    tSM_INT caps_mask;
} SM_CHANNEL_INFO_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_info(struct sm_channel_info_parms *channelinfop);

/* Datafeeds */

typedef struct sm_channel_datafeed_parms {
    tSMChannelId channel;
    tSMDatafeedId datafeed;
} SM_CHANNEL_DATAFEED_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_get_datafeed(struct sm_channel_datafeed_parms *datafeedp);

typedef struct sm_channel_datafeed_connect_parms {
    tSMDatafeedId data_source;
    tSMChannelId channel;
} SM_CHANNEL_DATAFEED_CONNECT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_datafeed_connect(struct sm_channel_datafeed_connect_parms *datafeedp);

/* TDM endpoints: the software TDM bus that joins the modules of a process.
 * A TDM[rx] on (stream, timeslot) receives what the TDM[tx] on the same
 * (stream, timeslot) sends, whichever module each is on (one TDM[tx] per
 * timeslot, any number of TDM[rx]); a hop costs one frame (see
 * docs/scale-out.md). Streams and timeslots 0..1023. */

enum kSMTimeslotType {
    kSMTimeslotTypeALaw,
    kSMTimeslotTypeMuLaw,
    kSMTimeslotTypeData,                    /* software: the module's samples, unquantised */
};

typedef struct sm_tdmrx_create_parms {
    tSMTDMrxId tdmrx;                       /* out */
    tSMModuleId module;                     /* in */
    tSM_INT stream;                         /* in */
    tSM_INT timeslot;                       /* in */
    enum kSMTimeslotType type;              /* in */
} SM_TDMRX_CREATE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_tdmrx_create(struct sm_tdmrx_create_parms *tdmrxp);
ACUAPI int ACUTiNG_WINAPI sm_tdmrx_destroy(tSMTDMrxId tdmrx);

typedef struct sm_tdmrx_datafeed_parms {
    tSMTDMrxId tdmrx;                       /* in */
    tSMDatafeedId datafeed;                 /* out */
} SM_TDMRX_DATAFEED_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_tdmrx_get_datafeed(struct sm_tdmrx_datafeed_parms *datafeedp);

typedef struct sm_tdmtx_create_parms {
    tSMTDMtxId tdmtx;                       /* out */
    tSMModuleId module;                     /* in */
    tSM_INT stream;                         /* in */
    tSM_INT timeslot;                       /* in */
    enum kSMTimeslotType type;              /* in */
} SM_TDMTX_CREATE_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_tdmtx_create(struct sm_tdmtx_create_parms *tdmtxp);
ACUAPI int ACUTiNG_WINAPI sm_tdmtx_destroy(tSMTDMtxId tdmtx);

typedef struct sm_tdmtx_datafeed_connect_parms {
    tSMDatafeedId data_source;              /* in: kSMNullDatafeedId disconnects */
    tSMTDMtxId tdmtx;                       /* in */
} SM_TDMTX_DATAFEED_CONNECT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_tdmtx_datafeed_connect(struct sm_tdmtx_datafeed_connect_parms *datafeedp);

/* Events */

typedef struct sm_channel_set_event_parms {
    tSMChannelId channel;                   /* in */
    tSM_INT event_type;                     /* in */
    tSM_INT issue_events;                   /* in */
    tSMEventId event;                       /* in */
} SM_CHANNEL_SET_EVENT_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_channel_set_event(struct sm_channel_set_event_parms *eventp);

ACUAPI int ACUTiNG_WINAPI smd_ev_create(tSMEventId *eventId, tSMChannelId channelId, int eventType, int eventChannelBinding);
ACUAPI int ACUTiNG_WINAPI smd_ev_free(tSMEventId eventId);
ACUAPI int ACUTiNG_WINAPI smd_ev_wait(tSMEventId eventId);

/* Error names */

typedef struct sm_error_name_parms {
    tSM_INT code;
    char name[80];
} SM_ERROR_NAME_PARMS;

ACUAPI char *ACUTiNG_WINAPI sm_error_name(struct sm_error_name_parms *errp);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_PROSGEN_H */

/*
 * smrtp.h - RTP endpoints: VMP[rx] receives RTP into a datafeed, VMP[tx]
 * sends a datafeed as RTP. Declarations follow Aculab's smrtp.h and
 * prosrtpapi.h for the calls libprosody-vmp provides (G.711 A-law and
 * mu-law, L16, RFC 4733 events; IPv4 and IPv6). Link with libprosody-vmp
 * (pkg-config prosody-vmp).
 *
 * Addresses are the OS socket structures, in network byte order; ports
 * reported by sm_vmprx_get_ports are host-order ints, as Aculab's library
 * gives them.
 */
#ifndef PROSODY_SMRTP_H
#define PROSODY_SMRTP_H

#include <netinet/in.h>

#include "smdrvr.h"
#include "px_prostype.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef DEFINED_SOCKADDR_IN
typedef struct sockaddr_in SOCKADDR_IN;
#define DEFINED_SOCKADDR_IN
#endif
#ifndef DEFINED_SOCKADDR_IN6
typedef struct sockaddr_in6 SOCKADDR_IN6;
#define DEFINED_SOCKADDR_IN6
#endif

enum kSMPLCMode { kSMPLCModeDisabled, kSMPLCModeEnabled, };
enum kSMVMPrxType { kSMVMPrxTypeIPv4, kSMVMPrxTypeIPv6, };
enum kSMVMPTxVADMode { kSMVMPTxVADModeDisabled, kSMVMPTxVADModeEnabled, kSMVMPTxVADModeComfortNoise, };

enum kSMVMPrxStatus {
    kSMVMPrxStatusRunning,
    kSMVMPrxStatusStopped,
    kSMVMPrxStatusDetectTone,
    kSMVMPrxStatusEndTone,
    kSMVMPrxStatusGotPorts,
    kSMVMPrxStatusNewSSRC,
    kSMVMPrxStatusUnhandledPayload,
    kSMVMPrxStatusCodecSpecific,
    kSMVMPrxStatusGotPortsIPv6,
    kSMVMPrxStatusNewSSRCIPv6,
    kSMVMPrxStatusSTUNBindRequest,
    kSMVMPrxStatusSTUNBindResponse,
    kSMVMPrxStatusJBResync,
    kSMVMPrxStatusProfileSpecific,
};

enum kSMAddressType { kSMAddressTypeIPv4, kSMAddressTypeIPv6, };
enum kSMVMPrxSTUNResult {
    kSMVMPrxSTUNResultSuccess,
    kSMVMPrxSTUNResultError,
    kSMVMPrxSTUNResultInvalid,
    kSMVMPrxSTUNResultTimeout,
};
enum kSMVMPtxRFC2833MinDuration { kSMVMPtxRFC2833MinDurationNoMinimum, kSMVMPtxRFC2833MinDuration40, };

enum kSMVMPtxStatus {
    kSMVMPtxStatusRunning,
    kSMVMPtxStatusStopped,
    kSMVMPtxStatusToneOngoing,
    kSMVMPtxStatusToneCompleted,
    kSMVMPtxStatusSSRC,
};

enum kSMCodecType {
    kSMCodecTypeAlaw,
    kSMCodecTypeMulaw,
    kSMCodecTypeG729AB,
    kSMCodecTypeRFC2833,
    kSMCodecTypeComfortNoise,
};

/* ---- VMP[rx] ---------------------------------------------------------- */

typedef struct sm_vmprx_create_parms {
    tSMVMPrxId vmprx;                 /* out */
    tSMModuleId module;               /* in */
    enum kSMVMPrxType type;           /* in */
    struct in_addr address;           /* in: local IPv4 address, type IPv4 (INADDR_ANY: every interface) */
    struct in6_addr ipv6_address;     /* in: local IPv6 address, type IPv6 (in6addr_any: every interface) */
    tSM_INT mux_rtcp;                 /* in: must be 0 (RTCP on its own port) */
} SM_VMPRX_CREATE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_create(struct sm_vmprx_create_parms *vmprxp);
ACUAPI int ACUTiNG_WINAPI sm_vmprx_destroy(tSMVMPrxId vmprx);

typedef struct sm_vmprx_stop_parms {
    tSMVMPrxId vmprx;                 /* in */
} SM_VMPRX_STOP_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_stop(struct sm_vmprx_stop_parms *stopp);

/* The event is set while a status is queued for sm_vmprx_status (and for
 * good once Stopped is queued); valid until sm_vmprx_destroy. */
typedef struct sm_vmprx_event_parms {
    tSMVMPrxId vmprx;                 /* in */
    tSMEventId event;                 /* out */
} SM_VMPRX_EVENT_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_get_event(struct sm_vmprx_event_parms *eventp);

typedef struct sm_vmprx_datafeed_parms {
    tSMVMPrxId vmprx;                 /* in */
    tSMDatafeedId datafeed;           /* out */
} SM_VMPRX_DATAFEED_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_get_datafeed(struct sm_vmprx_datafeed_parms *datafeedp);

typedef struct sm_vmprx_port_parms {
    tSMVMPrxId vmprx;                 /* in */
    int RTP_port;                     /* out */
    int RTCP_port;                    /* out */
    struct in_addr address;           /* out: IPv4 (255.255.255.255 for an IPv6 VMP[rx]) */
    struct in6_addr ipv6_address;     /* out: IPv6 (zero for an IPv4 VMP[rx]) */
    tSM_UT32 nowait;                  /* in: the ports are known at create; ignored */
} SM_VMPRX_PORT_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_get_ports(struct sm_vmprx_port_parms *portp);

typedef struct sm_vmprx_status_parms {
    tSMVMPrxId vmprx;                           /* in */
    enum kSMVMPrxStatus status;                 /* out */
    union {
        struct { tSM_INT id; double volume; unsigned duration; } tone;
        struct { int RTP_Port; int RTCP_Port; struct in_addr address; } ports;
        struct { tSM_INT no_data; } run;
        struct { struct in_addr address; int port; int ssrc; } ssrc;
        struct { int type; } payload;
        struct { int payload_type; } codec_specific;
        struct { int RTP_Port; int RTCP_Port; struct in6_addr address; } ports_ipv6;
        struct { struct in6_addr address; int port; int ssrc; } ssrc_ipv6;
        struct {
            int recv_port;
            enum kSMAddressType address_type;
            union { struct in_addr ipv4; struct in6_addr ipv6; } address;
            int port;
            tSM_UT32 priority;
            int use_candidate;
            int remote_is_controlling;
        } bind_request;
        struct {
            int recv_port;
            char transaction_id[12];
            enum kSMVMPrxSTUNResult result;
            tSM_INT error_code;
            enum kSMAddressType address_type;
            union { struct in_addr ipv4; struct in6_addr ipv6; } address;
            int port;
            int local_was_controlling;
        } bind_response;
        struct { tSM_UT32 timestamp; tSM_UT64 localtimeref; } jbresync;
        struct { tSM_INT notification_code; } profile_specific;
    } u;                                        /* out */
} SM_VMPRX_STATUS_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_status(struct sm_vmprx_status_parms *statusp);

typedef struct sm_vmprx_sample_rate_parms {
    tSMVMPrxId vmprx;
    tSM_UT32 sample_rate;             /* L16's RTP clock rate: 8000 (default), 16000, 32000 or 48000 */
} SM_VMPRX_SAMPLE_RATE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_sample_rate(struct sm_vmprx_sample_rate_parms *sample_ratep);

typedef struct sm_vmprx_jitter_parms {
    tSMVMPrxId vmprx;
    tSM_UT32 max_delay_ms;            /* default 100 */
    tSM_UT32 initial_delay_ms;        /* default 50; must be below max_delay_ms */
} SM_VMPRX_JITTER_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_jitter(struct sm_vmprx_jitter_parms *jitterp);

typedef struct sm_vmprx_codec_parms {
    tSMVMPrxId vmprx;
    enum kSMCodecType codec;          /* kSMCodecTypeAlaw or kSMCodecTypeMulaw */
    tSM_INT payload_type;             /* 0..127; -1 removes the codec */
    enum kSMPLCMode plc_mode;
} SM_VMPRX_CODEC_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_codec(struct sm_vmprx_codec_parms *codecp);

typedef struct sm_vmprx_codec_alaw_parms {
    tSMVMPrxId vmprx;
    tSM_INT payload_type;
    enum kSMPLCMode plc_mode;
} SM_VMPRX_CODEC_ALAW_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_codec_alaw(struct sm_vmprx_codec_alaw_parms *codecp);

typedef struct sm_vmprx_codec_mulaw_parms {
    tSMVMPrxId vmprx;
    tSM_INT payload_type;
    enum kSMPLCMode plc_mode;
} SM_VMPRX_CODEC_MULAW_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_codec_mulaw(struct sm_vmprx_codec_mulaw_parms *codecp);

typedef struct sm_vmprx_codec_rfc2833_parms {
    tSMVMPrxId vmprx;
    tSM_INT payload_type;             /* the telephone-event payload type; -1 removes it */
    enum kSMPLCMode plc_mode;         /* ignored */
} SM_VMPRX_CODEC_RFC2833_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_codec_rfc2833(struct sm_vmprx_codec_rfc2833_parms *codecp);

typedef struct sm_vmprx_tone_parms {
    tSMVMPrxId vmprx;                 /* in */
    tSM_INT regen_tones;              /* in: must be 0 (regeneration is not provided) */
    tSM_INT detect_tones;             /* in: report events as DetectTone / EndTone */
    tSM_INT enforce_tone_spacing;     /* in: ignored */
} SM_VMPRX_TONE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_tones(struct sm_vmprx_tone_parms *tonep);

typedef struct sm_vmprx_codec_l16_parms {
    tSMVMPrxId vmprx;
    tSM_INT payload_type;
    enum kSMPLCMode plc_mode;
} SM_VMPRX_CODEC_L16_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmprx_config_codec_l16(struct sm_vmprx_codec_l16_parms *codecp);

/* ---- VMP[tx] ---------------------------------------------------------- */

typedef struct sm_vmptx_create_parms {
    tSMVMPtxId vmptx;                 /* out */
    tSMModuleId module;               /* in */
} SM_VMPTX_CREATE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_create(struct sm_vmptx_create_parms *vmptxp);
ACUAPI int ACUTiNG_WINAPI sm_vmptx_destroy(tSMVMPtxId vmptx);

typedef struct sm_vmptx_stop_parms {
    tSMVMPtxId vmptx;                 /* in */
} SM_VMPTX_STOP_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_stop(struct sm_vmptx_stop_parms *stopp);

/* The event is set while a status is queued for sm_vmptx_status (and for
 * good once Stopped is queued); valid until sm_vmptx_destroy. */
typedef struct sm_vmptx_event_parms {
    tSMVMPtxId vmptx;                 /* in */
    tSMEventId event;                 /* out */
} SM_VMPTX_EVENT_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_get_event(struct sm_vmptx_event_parms *eventp);

typedef struct sm_vmptx_config_parms {
    tSMVMPtxId vmptx;                 /* in */
    SOCKADDR_IN destination_rtp;      /* in */
    SOCKADDR_IN source_rtp;           /* in: address and port sent from (0: any) */
    int TOS_RTP;                      /* in: ignored */
    SOCKADDR_IN destination_rtcp;     /* in: port 0: the RTP port + 1 */
    SOCKADDR_IN source_rtcp;          /* in: address and port sent from (0: any) */
    int TOS_RTCP;                     /* in: ignored */
} SM_VMPTX_CONFIG_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config(struct sm_vmptx_config_parms *configp);

/* As sm_vmptx_config, to IPv6 destinations (no TOS fields: Aculab takes the
 * traffic class from sin6_flowinfo; ignored here). */
typedef struct sm_vmptx_config_ipv6_parms {
    tSMVMPtxId vmptx;                 /* in */
    SOCKADDR_IN6 destination_rtp;     /* in */
    SOCKADDR_IN6 source_rtp;          /* in: address and port sent from (0: any) */
    SOCKADDR_IN6 destination_rtcp;    /* in: port 0: the RTP port + 1 */
    SOCKADDR_IN6 source_rtcp;         /* in: address and port sent from (0: any) */
} SM_VMPTX_CONFIG_IPV6_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_ipv6(struct sm_vmptx_config_ipv6_parms *configp);

typedef struct sm_vmptx_datafeed_connect_parms {
    tSMDatafeedId data_source;        /* in */
    tSMVMPtxId vmptx;                 /* in */
} SM_VMPTX_DATAFEED_CONNECT_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_datafeed_connect(struct sm_vmptx_datafeed_connect_parms *datafeedp);

typedef struct sm_vmptx_status_parms {
    tSMVMPtxId vmptx;                 /* in */
    enum kSMVMPtxStatus status;       /* out */
    union {
        struct { int ssrc; } ssrc;    /* out */
    } u;                              /* out */
} SM_VMPTX_STATUS_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_status(struct sm_vmptx_status_parms *statusp);

typedef struct sm_vmptx_sample_rate_parms {
    tSMVMPtxId vmptx;
    tSM_UT32 sample_rate;             /* L16's RTP clock rate: 8000 (default), 16000, 32000 or 48000 */
} SM_VMPTX_SAMPLE_RATE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_sample_rate(struct sm_vmptx_sample_rate_parms *sample_ratep);

typedef struct sm_vmptx_codec_parms {
    tSMVMPtxId vmptx;
    enum kSMCodecType codec;          /* kSMCodecTypeAlaw or kSMCodecTypeMulaw */
    tSM_INT payload_type;
    enum kSMVMPTxVADMode VADMode;     /* kSMVMPTxVADModeDisabled only */
    tSM_INT ptime;                    /* ms, a non-zero multiple of 10 */
} SM_VMPTX_CODEC_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_codec(struct sm_vmptx_codec_parms *codecp);

typedef struct sm_vmptx_codec_alaw_parms {
    tSMVMPtxId vmptx;
    tSM_INT payload_type;
    enum kSMVMPTxVADMode VADMode;
    tSM_INT ptime;
} SM_VMPTX_CODEC_ALAW_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_codec_alaw(struct sm_vmptx_codec_alaw_parms *codecp);

typedef struct sm_vmptx_codec_mulaw_parms {
    tSMVMPtxId vmptx;
    tSM_INT payload_type;
    enum kSMVMPTxVADMode VADMode;
    tSM_INT ptime;
} SM_VMPTX_CODEC_MULAW_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_codec_mulaw(struct sm_vmptx_codec_mulaw_parms *codecp);

typedef struct sm_vmptx_codec_l16_parms {
    tSMVMPtxId vmptx;
    tSM_INT payload_type;
    enum kSMVMPTxVADMode VADMode;
    tSM_INT ptime;
} SM_VMPTX_CODEC_L16_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_codec_l16(struct sm_vmptx_codec_l16_parms *codecp);

/* RFC 4733 (2833) events sent by a VMP[tx], in the same RTP stream as its
 * audio, at its packet time. */
typedef struct sm_vmptx_codec_rfc2833_parms {
    tSMVMPtxId vmptx;
    tSM_INT payload_type;             /* the telephone-event payload type; -1 removes it */
} SM_VMPTX_CODEC_RFC2833_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_codec_rfc2833(struct sm_vmptx_codec_rfc2833_parms *codecp);

/* Sends num events (RFC 4733 event codes: 0-9, 10 '*', 11 '#', 12-15 A-D,
 * ...255), each lasting duration ms, interval ms apart, at volume dBm0
 * (-15..0 here, as Aculab's). The in-band audio is not sent while an event
 * is. ToneCompleted is queued when the last event's final packets have
 * gone. ERR_SM_WRONG_CHANNEL_STATE while a sequence is under way. */
typedef struct sm_vmptx_generate_tones_parms {
    tSMVMPtxId vmptx;                 /* in */
    tSM_INT *tones;                   /* in */
    tSM_INT num;                      /* in */
    tSM_INT duration;                 /* in: ms, a non-zero multiple of 10 */
    tSM_INT interval;                 /* in: ms, a multiple of 10 */
    tSM_INT volume;                   /* in: dBm0, -15..0 */
} SM_VMPTX_GENERATE_TONES_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_generate_tones(struct sm_vmptx_generate_tones_parms *tonep);

/* The 16 DTMF pairs, sent as their RFC 4733 event codes (0-9, 10 '*',
 * 11 '#', 12-15 A-D). */
extern ACUAPI tSMVMPTxToneSet *kSMVMPTxDefaultToneSet;

/* A tone set for sm_vmptx_config_tones. Here each tone must contain one
 * DTMF pair (f1 range a DTMF row frequency, f2 range a column frequency;
 * others: ERR_SM_NOT_IMPLEMENTED), detected by the module's DTMF detector
 * (ITU-T Q.24); the req_ thresholds are not used. */
typedef struct sm_vmptx_create_toneset_parms {
    tSMVMPTxToneSet *toneset;         /* in */
    tSMModuleId module;               /* in */
    tSMVMPTxToneSetId tone_set_id;    /* out */
} SM_VMPTX_CREATE_TONESET_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_create_toneset(struct sm_vmptx_create_toneset_parms *tonesetp);

/* A tone set in use stays alive until its VMP[tx]s are reconfigured. */
typedef struct sm_vmptx_destroy_toneset_parms {
    tSMVMPTxToneSetId tone_set_id;    /* in */
} SM_VMPTX_DESTROY_TONESET_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_destroy_toneset(struct sm_vmptx_destroy_toneset_parms *tonep);

/* Detects the tone set's tones in the audio a VMP[tx] sends: convert_tones
 * sends each as an RFC 4733 event (needs sm_vmptx_config_codec_rfc2833),
 * elim_tones removes it from the audio; neither: no detection.
 * kSMNullVMPTxToneSetId: the default set. */
typedef struct sm_vmptx_tone_parms {
    tSMVMPtxId vmptx;                           /* in */
    tSM_INT convert_tones;                      /* in */
    tSM_INT elim_tones;                         /* in */
    tSMVMPTxToneSetId tone_set_id;              /* in */
    enum kSMVMPtxRFC2833MinDuration min_duration; /* in: 40 ms: tones shorter are not detected */
} SM_VMPTX_TONE_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_config_tones(struct sm_vmptx_tone_parms *tonep);

/* Ends the sequence: an event under way ends at once (its final packet sent
 * three times), the rest are not sent; ToneCompleted follows. */
typedef struct sm_vmptx_generate_tones_abort_parms {
    tSMVMPtxId vmptx;                 /* in */
} SM_VMPTX_GENERATE_TONES_ABORT_PARMS;
ACUAPI int ACUTiNG_WINAPI sm_vmptx_generate_tones_abort(struct sm_vmptx_generate_tones_abort_parms *tonep);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_SMRTP_H */

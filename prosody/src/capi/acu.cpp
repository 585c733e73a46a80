// acu.cpp - the V6 resource-management calls an application opens its card
// with (res_lib.h): one software card, serial kSoftwareCardSerial, card id 0.
// Card 0 is always open for Prosody, so these calls check their arguments
// and report the card; acu_close_prosody closes its modules, as
// sm_close_prosody does.
#include <cstdio>
#include <cstring>

#include "capi/capi.hpp"
#include "prosody/res_lib.h"

namespace {

template <class Parms>
bool sized(const Parms* p) {
  return p && p->size >= sizeof(Parms);
}

bool is_our_card(ACU_CARD_ID id) { return id == 0; }

}  // namespace

extern "C" {

ACU_ERR acu_get_system_snapshot(ACU_SNAPSHOT_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  std::memset(p->serial_no, 0, sizeof p->serial_no);
  p->count = 1;
  std::snprintf(p->serial_no[0], sizeof p->serial_no[0], "%s", prosody::capi::kSoftwareCardSerial);
  return ERR_NO_ERROR;
}

ACU_ERR acu_open_card_65(ACU_OPEN_CARD_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  // An empty serial number opens the only card, and says which it is.
  if (p->serial_no[0] == '\0')
    std::snprintf(p->serial_no, sizeof p->serial_no, "%s", prosody::capi::kSoftwareCardSerial);
  else if (std::strncmp(p->serial_no, prosody::capi::kSoftwareCardSerial, sizeof p->serial_no) != 0)
    return ERR_CARD_NOT_FOUND;
  p->card_id = 0;
  return ERR_NO_ERROR;
}

// The plain names too, for code that declares them without res_lib.h's
// mapping (the macros are lifted to define them).
#undef acu_open_card
ACU_ERR acu_open_card(ACU_OPEN_CARD_PARMS* p);
ACU_ERR acu_open_card(ACU_OPEN_CARD_PARMS* p) { return acu_open_card_65(p); }

ACU_ERR acu_get_card_info_65(ACU_CARD_INFO_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  if (!is_our_card(p->card_id)) return ERR_INVALID_CARD;
  const ACU_ULONG size = p->size;
  const ACU_CARD_ID id = p->card_id;
  std::memset(p, 0, sizeof *p);
  p->size = size;
  p->card_id = id;
  p->card_type = ACU_PROSODY_S_CARD;  // host software, as sm_get_card_info's kSMCarrierCardTypePS
  p->resources_available = ACU_RESOURCE_SPEECH | ACU_RESOURCE_SOFT_DSP;
  std::snprintf(p->serial_no, sizeof p->serial_no, "%s", prosody::capi::kSoftwareCardSerial);
  std::snprintf(p->card_name, sizeof p->card_name, "prosody-sw");
  std::snprintf(p->card_desc, sizeof p->card_desc, "software Prosody processor");
  return ERR_NO_ERROR;
}

#undef acu_get_card_info
ACU_ERR acu_get_card_info(ACU_CARD_INFO_PARMS* p);
ACU_ERR acu_get_card_info(ACU_CARD_INFO_PARMS* p) { return acu_get_card_info_65(p); }

ACU_ERR acu_close_card(ACU_CLOSE_CARD_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  return is_our_card(p->card_id) ? ERR_NO_ERROR : ERR_INVALID_CARD;
}

ACU_INT acu_open_prosody(ACU_OPEN_PROSODY_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  return is_our_card(p->card_id) ? ERR_NO_ERROR : ERR_INVALID_CARD;
}

ACU_INT acu_close_prosody(ACU_CLOSE_PROSODY_PARMS* p) {
  if (!sized(p)) return ERR_PARM;
  if (!is_our_card(p->card_id)) return ERR_INVALID_CARD;
  SM_CLOSE_PROSODY_PARMS close{};
  close.card_id = static_cast<tSMCardId>(p->card_id);
  return sm_close_prosody(&close);
}

const ACU_CHAR* acu_error_desc(ACU_ERR error) {
  switch (error) {
    case ERR_NO_ERROR:
      return "no error";
    case ERR_PARM:
      return "invalid parameter";
    case ERR_NO_SYS_RES:
      return "no system resources";
    case ERR_UNSUPPORTED:
      return "unsupported";
    case ERR_NOT_IMPLEMENTED:
      return "not implemented";
    case ERR_FAIL:
      return "failed";
    case ERR_NO_MEMORY:
      return "out of memory";
    case ERR_CARD_NOT_FOUND:
      return "card not found";
    case ERR_INVALID_RESOURCE:
      return "invalid resource";
    case ERR_ALREADY_OPEN:
      return "already open";
    case ERR_SERVER_NOT_RESPONDING:
      return "server not responding";
    case ERR_TIMEOUT:
      return "timed out";
    case ERR_STILL_IN_USE:
      return "still in use";
    case ERR_INVALID_CARD:
      return "invalid card";
    case ERR_BUFF_SIZE:
      return "buffer too small";
    default:
      return "unknown error";
  }
}

}  // extern "C"

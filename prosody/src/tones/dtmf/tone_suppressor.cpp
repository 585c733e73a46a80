// Placeholder: DTMF detection and ToneSuppressor land here.

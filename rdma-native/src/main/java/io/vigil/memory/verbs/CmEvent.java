package io.vigil.memory.verbs;

import com.sun.jna.Pointer;

/**
 * A connection manager event, copied out of librdmacm's {@code struct rdma_cm_event} so that the event can be
 * acknowledged at once (the private data lives in the event and is freed with it). {@code id} is the connection the
 * event concerns (for a connect request: the new one), {@code listenId} the listener a request came to.
 */
record CmEvent(int type, int status, Pointer id, Pointer listenId, byte[] privateData) {
    CmEvent {
        privateData = privateData.clone();
    }

    static CmEvent copyOf(Pointer event) {
        int length = event.getByte(VerbsLayout.CM_EVENT_PRIVATE_DATA_LEN) & 0xff;
        Pointer data = event.getPointer(VerbsLayout.CM_EVENT_PRIVATE_DATA);
        byte[] privateData = data == null || length == 0 ? new byte[0] : data.getByteArray(0, length);
        return new CmEvent(event.getInt(VerbsLayout.CM_EVENT_EVENT), event.getInt(VerbsLayout.CM_EVENT_STATUS),
                event.getPointer(VerbsLayout.CM_EVENT_ID), event.getPointer(VerbsLayout.CM_EVENT_LISTEN_ID),
                privateData);
    }

    @Override
    public byte[] privateData() {
        return privateData.clone();
    }

    String name() {
        String name = RdmaCm.rdma_event_str(type);
        return (name == null ? "event " + type : name) + (status != 0 ? " (status " + status + ")" : "");
    }
}

-- A recipient's deliveries go out one at a time and in the order they were recorded: the
-- sender claims a delivery only when no earlier one to the same chat (or phone, or
-- address) is still open.
CREATE INDEX deliveries_open_chat ON deliveries (chat_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_open_address ON deliveries (address, id) WHERE state IN ('pending', 'sending');

-- A sender that starts paces its first message after the last one sent before it.
CREATE INDEX deliveries_sent ON deliveries (channel, sent_at) WHERE state = 'sent';

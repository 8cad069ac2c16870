//! gRPC length-prefixed message framing, for request bodies that h2load sends as they are.

use prost::Message;

/// The 5-byte prefix (compressed flag 0, big-endian length) followed by the encoded message.
pub fn frame(message: &impl Message) -> anyhow::Result<Vec<u8>> {
    let len = message.encoded_len();
    let prefix_len =
        u32::try_from(len).map_err(|_| anyhow::anyhow!("message of {len} bytes is too large"))?;
    let mut framed = Vec::with_capacity(5 + len);
    framed.push(0);
    framed.extend_from_slice(&prefix_len.to_be_bytes());
    message.encode(&mut framed)?;
    Ok(framed)
}

/// How many bytes a framed message of `message_len` takes on the wire.
pub fn framed_len(message_len: usize) -> usize {
    5 + message_len
}

#[cfg(test)]
mod tests {
    use regserial::serial::v1::GetSerialRequest;

    use super::*;

    #[test]
    fn a_frame_is_flag_length_then_message() -> anyhow::Result<()> {
        let request = GetSerialRequest { serial_number: "SN-1".to_owned() };
        let framed = frame(&request)?;
        assert_eq!(framed[..5], [0, 0, 0, 0, 6]);
        assert_eq!(GetSerialRequest::decode(&framed[5..])?, request);
        assert_eq!(framed.len(), framed_len(request.encoded_len()));
        Ok(())
    }
}

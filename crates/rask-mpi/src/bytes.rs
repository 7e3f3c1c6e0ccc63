//! Values that arrive from another rank as payloads: the buffer MPI
//! received a string into becomes the string, without another copy.

use std::sync::Arc;

/// The string whose UTF-8 bytes `bytes` holds, sharing its allocation.
/// Without this a 100 MB string that arrived from another rank would be
/// copied once more into a new `Arc<str>` (the transfer benchmark in the
/// README measures the difference).
pub(crate) fn into_str(bytes: Arc<[u8]>) -> Result<Arc<str>, String> {
    std::str::from_utf8(&bytes).map_err(|e| format!("a string payload is not UTF-8: {e}"))?;
    let raw = Arc::into_raw(bytes) as *const str;
    // SAFETY: `str` has the layout of `[u8]`, so the pointer (with the same
    // length metadata) comes from `Arc::into_raw` of an `Arc` of a type of
    // the same size and alignment, as `Arc::from_raw` requires, and the
    // bytes were checked to be UTF-8 just above.
    Ok(unsafe { Arc::from_raw(raw) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_share_the_buffer() {
        let s: Arc<str> = Arc::from("héllo");
        let b = Arc::<[u8]>::from(s);
        let ptr = b.as_ptr();
        let back = into_str(b).unwrap();
        assert_eq!(&*back, "héllo");
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let b: Arc<[u8]> = Arc::from(&[0xff_u8, 0xfe][..]);
        assert!(into_str(b).unwrap_err().contains("not UTF-8"));
    }
}

//! A local emulator of the Wacht Webhooks API.

//! The Telegram bot: the dialogue, the cabinet's sections, the parent's settings.
//!
//! Not built yet: the simulator and the bot's frame come next, then login, then the sections.

//! Every route of the bot, on one screen.

use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;

use super::BotError;
use super::handlers::{
    on_callback, on_command, on_member_update, on_message, parse_command, refuse_group,
};

pub fn schema() -> UpdateHandler<BotError> {
    let in_groups = Update::filter_message()
        .filter(|m: Message| !m.chat.is_private())
        .endpoint(refuse_group);
    let private = Update::filter_message()
        .branch(dptree::filter_map(parse_command).endpoint(on_command))
        .endpoint(on_message);
    dptree::entry()
        .branch(in_groups)
        .branch(private)
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_my_chat_member().endpoint(on_member_update))
}

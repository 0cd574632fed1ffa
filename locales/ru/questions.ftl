# Вопросы, которые ждут ответа (SPEC §1.11).

question-kind-place_offer = Предложено место в детском саду
question-kind-choose_institution = Выбор детского сада со свободным местом
question-kind-referral_extension = Продление направления
question-kind-attendance_approval = Подтверждение табеля посещаемости
question-kind-privilege_visit = Запись на подтверждение льготы
question-kind-other = Вопрос портала
question-topic-place_offer = место в саду
question-topic-choose_institution = выбор сада
question-topic-referral_extension = продление
question-topic-attendance_approval = табель
question-topic-privilege_visit = льгота
question-topic-other = вопрос
comment-rule-none = без комментария
comment-rule-optional = комментарий по желанию
comment-rule-required = комментарий обязателен
question-deadline = Срок: { $deadline }
button-answer = ✍️ Ответить
sms-question = Личный кабинет. { $child }: { $topic }. Ответ до { $deadline }: бот/портал
question-email-footer = Ответить можно в личном кабинете в Telegram или на портале: { $link }
time-left-days-hours = осталось { $days } { $days ->
    [one] день
    [few] дня
   *[other] дней
} { $hours } { $hours ->
    [one] час
    [few] часа
   *[other] часов
}
time-left-days = { $days ->
    [one] остался { $days } день
    [few] осталось { $days } дня
   *[other] осталось { $days } дней
}
time-left-hours-minutes = осталось { $hours } { $hours ->
    [one] час
    [few] часа
   *[other] часов
} { $minutes } { $minutes ->
    [one] минута
    [few] минуты
   *[other] минут
}
time-left-hours = { $hours ->
    [one] остался { $hours } час
    [few] осталось { $hours } часа
   *[other] осталось { $hours } часов
}
time-left-minutes = { $minutes ->
    [one] осталась { $minutes } минута
    [few] осталось { $minutes } минуты
   *[other] осталось { $minutes } минут
}
questions-title = ❗ Ждут вашего ответа
questions-empty = Вопросов, которые ждут ответа, нет.
button-questions = ❗ Ждут ответа ({ $count })
question-concerns-application = Заявление № { $number } · { $child }
question-concerns-month = { $child } · { $month }
question-card-deadline = ⏰ Срок: { $deadline } ({ $left })
question-card-if-unanswered = Если не ответить: { $what }
question-choose = Выберите ответ:
question-answered = ✅ Ответ дан: { $option }, { $at }
question-delivered = передан на портал ✓
question-answer-comment = Комментарий: { $comment }
question-withdrawn = Портал отозвал этот вопрос — отвечать не нужно.
question-expired = Срок ответа истёк.
question-sure = Вы уверены?
question-chosen = Ваш выбор: «{ $option }»
button-answer-sure = ✔️ Да, подтверждаю выбор
question-consequence-place_offer = Если отказаться от места, заявление исключат из очереди, а место передадут следующему ребёнку.
question-consequence-choose_institution = Этот выбор потом изменить нельзя.
question-consequence-referral_extension = Если отказаться от продления, направление закончится в свой срок.
question-consequence-attendance_approval = После подтверждения табель изменить нельзя.
question-consequence-privilege_visit = Если отказаться, льгота не будет подтверждена.
question-consequence-other = Ответ потом изменить нельзя.
question-comment-required = К этому ответу нужен комментарий. Напишите его (до { $max } символов).
question-comment-optional = Если хотите, напишите комментарий (до { $max } символов) или отправьте ответ без него.
button-no-comment = Отправить без комментария
question-comment-too-long = Комментарий слишком длинный: { $count } символов. Сократите его до { $max } и отправьте ещё раз.
question-answer-recorded = ✅ Ваш ответ записан.
question-already-answered = На этот вопрос уже ответили — новый ответ не записан.
question-too-late = Срок ответа истёк — ответ не записан.
question-withdrawn-note = Портал отозвал этот вопрос — ответ не записан.
button-copy-number = 📋 № { $number }

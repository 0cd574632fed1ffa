# Статусы, виды и ошибки ввода.

## Статусы заявлений
application-status-submitted = Подано
application-status-in_review = На рассмотрении
application-status-queued = В очереди
application-status-waiting_list = В листе ожидания
application-status-referral_issued = Выдано направление
application-status-inactive = Неактивно
application-status-enrolled = Зачислен
application-status-enrolled-female = Зачислена
application-status-rejected = Отказано
application-status-cancelled = Отменено

## Виды заявлений
application-kind-kindergarten = Детский сад
application-kind-first_grade = 1 класс
application-kind-transfer = Перевод
application-kind-club = Кружок

## Виды организаций
institution-kind-kindergarten = Детский сад
institution-kind-school = Школа
institution-kind-club_center = Центр дополнительного образования

## Статусы направлений
referral-status-active = Действует
referral-status-used = Использовано
referral-status-expired = Истёк срок
referral-status-revoked = Отозвано

## Посещаемость
attendance-status-present = Посещено
attendance-status-absent = Пропущено
attendance-status-excused = Пропущено по уважительной причине

## Льготные категории
privilege-extraordinary = Внеочередное право
privilege-priority = Первоочередное право

## Виды событий
event-kind-application_status = Изменён статус заявления
event-kind-referral_issued = Выдано направление
event-kind-referral_used = Направление использовано
event-kind-referral_expired = Срок направления истёк
event-kind-referral_revoked = Направление отозвано
event-kind-referral_expires_soon = Срок направления скоро истекает
event-kind-club_enrolled = Запись в кружок
event-kind-announcement = Объявление управления образования
event-kind-question = Ждёт вашего ответа
event-kind-question_answered = Ответ дан
event-kind-question_reminder = Напоминание: ждёт вашего ответа

## Каналы уведомлений
channel-telegram = Telegram
channel-sms = SMS
channel-email = Электронная почта
channel-portal = Портал

## Назначение кодов подтверждения
otp-purpose-login = Вход в кабинет
otp-purpose-reset = Восстановление пароля
otp-purpose-phone_change = Смена номера телефона

## Ошибки ИИН
iin-error-empty = ИИН не введён. Отправьте 12 цифр.
iin-error-not-digits = ИИН состоит только из цифр.
iin-error-length = { $count ->
    [one] В ИИН 12 цифр, а вы ввели { $count } цифру.
    [few] В ИИН 12 цифр, а вы ввели { $count } цифры.
   *[other] В ИИН 12 цифр, а вы ввели { $count } цифр.
}
iin-error-birth-date = Первые шесть цифр — дата рождения (ГГММДД), но такой даты нет.
iin-error-birth-date-future = Дата рождения в ИИН ещё не наступила.
iin-error-century = Седьмая цифра должна быть от 1 до 6.
iin-error-control = Не сходится последняя (контрольная) цифра — возможно, одна цифра набрана с ошибкой.

## Ошибки телефона
phone-error-empty = Номер телефона не введён.
phone-error-characters = В номере могут быть только цифры, пробелы, дефисы и скобки.
phone-error-length = В мобильном номере 10 цифр после +7 или 8.
phone-error-country = Это не казахстанский номер: казахстанские номера начинаются с +7 или 8.
phone-error-not-mobile = Это не мобильный номер: мобильные номера начинаются с 70, 74, 75, 76 или 77.

## Ошибки электронной почты
email-error-empty = Адрес не введён.
email-error-malformed = Адрес должен выглядеть как name@example.kz.
email-error-too-long = Адрес должен быть не длиннее 254 символов.

## Ошибки пароля
password-error-too-short = { $min ->
    [one] Пароль должен быть не короче { $min } символа.
   *[other] Пароль должен быть не короче { $min } символов.
}
password-error-too-long = { $max ->
    [one] Пароль должен быть не длиннее { $max } символа.
   *[other] Пароль должен быть не длиннее { $max } символов.
}
password-error-iin = Пароль не должен совпадать с ИИН.
password-error-phone = Пароль не должен совпадать с номером телефона.
password-error-common = Этот пароль слишком распространён, его легко подобрать. Придумайте другой.

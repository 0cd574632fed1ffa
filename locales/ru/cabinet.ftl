# Кабинет: меню и разделы.

## Кабинет
menu = <b>Личный кабинет</b> · { $name }

    Выберите раздел:
not-found = Эта запись не найдена.
queue-position = { $status } ({ $position }-е место)
feed-empty = Событий пока нет. Когда статус ваших заявлений изменится, вы увидите это здесь.
button-open-number = Открыть № { $number }
applications-empty = Заявлений пока нет.
application-card = <b>Заявление № { $number }</b>
    Ребёнок: { $child } ({ $birth })
    Вид: { $kind }
    Желаемая дата зачисления: { $desired }
    Язык обучения: { $language }
    Подано: { $submitted }
    Статус: <b>{ $status }</b>
queue-moved = Место в очереди: { $from } → { $to } с { $since }
instruction-kk = казахский
instruction-ru = русский
label-privilege = Льгота
label-institutions = Выбранные организации (по приоритету)
label-history = История статусов
history-earlier = { $count ->
    [one] ещё { $count } ранняя запись
    [few] ещё { $count } ранние записи
   *[other] ещё { $count } ранних записей
}
button-open-referral = 📨 Открыть направление
referrals-empty = Направлений пока нет.
referral-card = <b>Направление № { $number }</b>
    Ребёнок: { $child }
    Организация: { $institution }
    Адрес: { $address }
    Группа / класс: { $group }
    Выдано: { $issued }
    Срок действия: до { $validity }
    Статус: <b>{ $status }</b>
    Заявление: № { $application }
referral-validity = { $until }
referral-validity-left = { $until } ({ $left })
button-open-application = 📝 Заявление № { $number }
files-empty = Личных дел пока нет.
label-born = Дата рождения: { $date }
file-placement = { $institution }, { $group } (с { $since })
file-no-placement = Сведения об организации пока не поступили.
label-clubs = Кружки
clubs-empty = Кружков нет.
button-attendance = 📅 Посещаемость
attendance-empty = Сведений о посещаемости пока нет.
attendance-summary = Посещено: { $present } · Пропущено: { $absent } · По уважительной причине: { $excused }
    Доля посещений: { $share }%
label-last-days = Последние дни
attendance-legend = 🟩 посещено · 🟥 пропущено · 🟨 по уважительной причине · ⬜ нет сведений
button-open-file = 📁 { $child }
settings = <b>Настройки</b>

    Основной телефон: { $phone }
    Дополнительные телефоны: { $extra }
    Электронная почта: { $email }
    Язык: { $language }

    Каналы уведомлений (нажмите, чтобы включить или выключить):
email-none = не указана
button-language = 🌐 Сменить язык
channel-last-one = Хотя бы один канал должен оставаться включённым.
button-set-email = ✉️ Электронная почта
button-remove-email = Удалить почту
button-change-password = 🔑 Сменить пароль
password-old-prompt = Отправьте ваш текущий пароль.
password-confirm-prompt = Это изменение защищено паролем: отправьте ваш пароль от кабинета.
email-prompt = Отправьте адрес электронной почты, например: name@example.kz
email-saved = Электронная почта сохранена.
email-removed = Электронная почта удалена.
button-change-phone = 📱 Сменить основной телефон
button-add-phone = ➕ Добавить телефон
phone-new-prompt = Отправьте новый основной номер телефона. На него придёт код подтверждения.
phone-extra-prompt = Отправьте дополнительный номер телефона.
phone-same = Этот номер уже основной.
phone-changed = ✅ Основной телефон изменён. Другие сеансы кабинета завершены, на прежний номер отправлено SMS.
phone-added = Телефон добавлен.
phone-removed = Телефон удалён.
phones-none = нет

## Pushes
push-sms = Личный кабинет: { $child }, { $what }
push-sms-no-child = Личный кабинет: { $what }
push-open = Открыть
push-email-subject = Личный кабинет: { $what }
push-email-footer = Подробнее — в личном кабинете в Telegram: { $link }

## Settings: active sessions
button-sessions = 📱 Активные сеансы
sessions = <b>Активные сеансы</b>

    Чаты, в которых выполнен вход в кабинет:
    { $list }
session-line = • { $name }
      вход: { $started }; последний раз: { $seen }
session-line-this = • { $name } (этот чат)
      вход: { $started }; последний раз: { $seen }
button-end-session = ✖ Завершить: { $name }
button-end-other-sessions = Завершить все остальные сеансы
session-ended-one = Сеанс завершён.
sessions-ended-others = Завершено других сеансов: { $count }.

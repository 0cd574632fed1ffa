# Кабинет: мәзір және бөлімдер.

## Кабинет
menu = <b>Жеке кабинет</b> · { $name }

    Бөлімді таңдаңыз:
not-found = Бұл жазба табылмады.
queue-position = { $status } ({ $position }-орын)
feed-empty = Әзірге оқиғалар жоқ. Өтініштеріңіздің мәртебесі өзгергенде осында көресіз.
button-open-number = № { $number } ашу
applications-empty = Әзірге өтініштер жоқ.
application-card = <b>Өтініш № { $number }</b>
    Бала: { $child } ({ $birth })
    Түрі: { $kind }
    Қалаған қабылдау күні: { $desired }
    Оқыту тілі: { $language }
    Берілген күні: { $submitted }
    Мәртебесі: <b>{ $status }</b>
queue-moved = Кезектегі орны: { $from } → { $to }, { $since } бері
instruction-kk = қазақ тілі
instruction-ru = орыс тілі
label-privilege = Жеңілдік
label-institutions = Таңдалған ұйымдар (қалау ретімен)
label-history = Мәртебе тарихы
history-earlier = бұдан бұрын тағы { $count } жазба
button-open-referral = 📨 Жолдаманы ашу
referrals-empty = Әзірге жолдамалар жоқ.
referral-card = <b>Жолдама № { $number }</b>
    Бала: { $child }
    Ұйым: { $institution }
    Мекенжайы: { $address }
    Топ / сынып: { $group }
    Берілген күні: { $issued }
    Жарамдылық мерзімі: { $validity }
    Мәртебесі: <b>{ $status }</b>
    Өтініш: № { $application }
referral-validity = { $until }
referral-validity-left = { $until } ({ $left })
button-open-application = 📝 Өтініш № { $number }
files-empty = Әзірге жеке іс-құжаттар жоқ.
label-born = Туған күні: { $date }
file-placement = { $institution }, { $group } ({ $since } бастап)
file-no-placement = Ұйым туралы мәлімет әзірге түспеді.
label-clubs = Үйірмелер
clubs-empty = Үйірмелер жоқ.
button-attendance = 📅 Сабаққа қатысу
attendance-empty = Сабаққа қатысу туралы мәлімет әзірге түспеді.
attendance-summary = Келді: { $present } · Келмеді: { $absent } · Дәлелді себеппен: { $excused }
    Қатысу үлесі: { $share }%
label-last-days = Соңғы күндер
attendance-legend = 🟩 келді · 🟥 келмеді · 🟨 дәлелді себеппен · ⬜ мәлімет жоқ
button-open-file = 📁 { $child }
settings = <b>Баптаулар</b>

    Негізгі телефон: { $phone }
    Қосымша телефондар: { $extra }
    Электрондық пошта: { $email }
    Тіл: { $language }

    Хабарлама арналары (басу арқылы қосыңыз немесе өшіріңіз):
email-none = көрсетілмеген
button-language = 🌐 Тілді ауыстыру
channel-last-one = Кемінде бір арна қосулы болуы керек.
button-set-email = ✉️ Электрондық пошта
button-remove-email = Поштаны өшіру
button-change-password = 🔑 Құпиясөзді ауыстыру
password-old-prompt = Қазіргі құпиясөзіңізді жіберіңіз.
password-confirm-prompt = Бұл өзгеріс құпиясөзбен қорғалған: кабинеттің құпиясөзін жіберіңіз.
email-prompt = Электрондық пошта мекенжайын жіберіңіз, мысалы: name@example.kz
email-saved = Электрондық пошта сақталды.
email-removed = Электрондық пошта өшірілді.
button-change-phone = 📱 Негізгі телефонды ауыстыру
button-add-phone = ➕ Телефон қосу
phone-new-prompt = Жаңа негізгі телефон нөмірін жіберіңіз. Оған растау коды келеді.
phone-extra-prompt = Қосымша телефон нөмірін жіберіңіз.
phone-same = Бұл нөмір қазірдің өзінде негізгі телефон.
phone-changed = ✅ Негізгі телефон ауыстырылды. Кабинеттің басқа сеанстары аяқталды, бұрынғы нөмірге SMS жіберілді.
phone-added = Телефон қосылды.
phone-removed = Телефон өшірілді.
phones-none = жоқ

## Pushes
push-sms = Жеке кабинет: { $child }, { $what }
push-sms-no-child = Жеке кабинет: { $what }
push-open = Ашу
push-email-subject = Жеке кабинет: { $what }
push-email-footer = Толығырақ — Telegram-дағы жеке кабинетте: { $link }

## Settings: active sessions
button-sessions = 📱 Белсенді сеанстар
sessions = <b>Белсенді сеанстар</b>

    Кабинетке кірген чаттар:
    { $list }
session-line = • { $name }
      кірген уақыты: { $started }; соңғы рет: { $seen }
session-line-this = • { $name } (осы чат)
      кірген уақыты: { $started }; соңғы рет: { $seen }
button-end-session = ✖ Аяқтау: { $name }
button-end-other-sessions = Басқа сеанстардың бәрін аяқтау
session-ended-one = Сеанс аяқталды.
sessions-ended-others = Басқа сеанстар аяқталды: { $count }.

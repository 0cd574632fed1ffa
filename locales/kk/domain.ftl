# Мәртебелер, түрлер және енгізілген деректердің қателері.

## Өтініш мәртебелері
application-status-submitted = Берілді
application-status-in_review = Қаралуда
application-status-queued = Кезекте
application-status-waiting_list = Күту тізімінде
application-status-referral_issued = Жолдама берілді
application-status-inactive = Белсенді емес
application-status-enrolled = Қабылданды
application-status-enrolled-female = Қабылданды
application-status-rejected = Бас тартылды
application-status-cancelled = Күші жойылды

## Өтініш түрлері
application-kind-kindergarten = Балабақша
application-kind-first_grade = 1-сынып
application-kind-transfer = Ауысу
application-kind-club = Үйірме

## Ұйым түрлері
institution-kind-kindergarten = Балабақша
institution-kind-school = Мектеп
institution-kind-club_center = Қосымша білім беру орталығы

## Жолдама мәртебелері
referral-status-active = Белсенді
referral-status-used = Пайдаланылды
referral-status-expired = Мерзімі өтті
referral-status-revoked = Кері қайтарып алынды

## Сабаққа қатысу
attendance-status-present = Келді
attendance-status-absent = Келмеді
attendance-status-excused = Дәлелді себеппен келмеді

## Жеңілдік санаттары
privilege-extraordinary = Кезектен тыс құқық
privilege-priority = Бірінші кезектегі құқық

## Оқиға түрлері
event-kind-application_status = Өтініш мәртебесі өзгерді
event-kind-referral_issued = Жолдама берілді
event-kind-referral_used = Жолдама пайдаланылды
event-kind-referral_expired = Жолдаманың мерзімі өтті
event-kind-referral_revoked = Жолдама кері қайтарып алынды
event-kind-referral_expires_soon = Жолдаманың мерзімі жақында бітеді
event-kind-club_enrolled = Үйірмеге жазылды
event-kind-announcement = Білім басқармасының хабарландыруы
event-kind-question = Жауап күтеді
event-kind-question_answered = Жауап берілді
event-kind-question_reminder = Еске салу: жауап күтеді

## Хабарлама арналары
channel-telegram = Telegram
channel-sms = SMS
channel-email = Электрондық пошта
channel-portal = Портал

## Растау кодтарының мақсаты
otp-purpose-login = Кабинетке кіру
otp-purpose-reset = Құпиясөзді қалпына келтіру
otp-purpose-phone_change = Телефон нөмірін ауыстыру

## ЖСН қателері
iin-error-empty = ЖСН енгізілмеді. 12 цифрды жіберіңіз.
iin-error-not-digits = ЖСН тек цифрлардан тұрады.
iin-error-length = ЖСН 12 цифрдан тұрады, ал сіз { $count } цифр енгіздіңіз.
iin-error-birth-date = Алғашқы алты цифр — туған күн (ЖЖААКК), бірақ мұндай күн жоқ.
iin-error-birth-date-future = ЖСН-дегі туған күн әлі келген жоқ.
iin-error-century = Жетінші цифр 1-ден 6-ға дейін болуы керек.
iin-error-control = Соңғы (бақылау) цифры сәйкес келмейді — бір цифр қате терілген болуы мүмкін.

## Телефон қателері
phone-error-empty = Телефон нөмірі енгізілмеді.
phone-error-characters = Нөмірде тек цифрлар, бос орын, сызықша және жақша болады.
phone-error-length = Ұялы нөмір +7 немесе 8-ден кейін 10 цифрдан тұрады.
phone-error-country = Бұл Қазақстан нөмірі емес: қазақстандық нөмірлер +7 немесе 8-ден басталады.
phone-error-not-mobile = Бұл ұялы нөмір емес: ұялы нөмірлер 70, 74, 75, 76 немесе 77-ден басталады.

## Электрондық пошта қателері
email-error-empty = Мекенжай енгізілмеді.
email-error-malformed = Мекенжай name@example.kz сияқты болуы керек.
email-error-too-long = Мекенжай 254 таңбадан аспауы керек.

## Құпиясөз қателері
password-error-too-short = Құпиясөз кемінде { $min } таңбадан тұруы керек.
password-error-too-long = Құпиясөз { $max } таңбадан аспауы керек.
password-error-iin = Құпиясөз ЖСН-мен бірдей болмауы керек.
password-error-phone = Құпиясөз телефон нөмірімен бірдей болмауы керек.
password-error-common = Бұл құпиясөз тым жиі қолданылады, оны оңай табуға болады. Басқасын ойлап табыңыз.

# Жалпы мәтіндер: бөлімдер, батырмалар, күндер.

## Бөлімдер (жадынамадағы атаулар)
section-feed = Оқиғалар таспасы
section-applications = Менің өтініштерім
section-referrals = Менің жолдамаларым
section-files = Жеке іс-құжаттарым
section-settings = Баптаулар
section-cabinet = Жеке кабинет

## Батырмалар
button-back = ‹ Артқа
button-menu = Мәзір
button-logout = Шығу
button-cancel = Болдырмау
button-continue = Жалғастыру

## Сандар
unread-count = { $count } жаңа
days-left = { $count ->
    [0] бүгін бітеді
   *[other] { $count } күн қалды
}
applications-count = { $count } өтініш

## Күндер
date-long = { $year } жылғы { $day } { $month }
date-time = { $date }, { $time }
date-day-month = { $day } { $month }
month-with-year = { $month } { $year }

month-in-date-1 = қаңтар
month-in-date-2 = ақпан
month-in-date-3 = наурыз
month-in-date-4 = сәуір
month-in-date-5 = мамыр
month-in-date-6 = маусым
month-in-date-7 = шілде
month-in-date-8 = тамыз
month-in-date-9 = қыркүйек
month-in-date-10 = қазан
month-in-date-11 = қараша
month-in-date-12 = желтоқсан

## Ай атауы шығыс септікте: «1 қыркүйектен бастап», «1 қыркүйектен бері»
month-from-1 = қаңтардан
month-from-2 = ақпаннан
month-from-3 = наурыздан
month-from-4 = сәуірден
month-from-5 = мамырдан
month-from-6 = маусымнан
month-from-7 = шілдеден
month-from-8 = тамыздан
month-from-9 = қыркүйектен
month-from-10 = қазаннан
month-from-11 = қарашадан
month-from-12 = желтоқсаннан

month-title-1 = Қаңтар
month-title-2 = Ақпан
month-title-3 = Наурыз
month-title-4 = Сәуір
month-title-5 = Мамыр
month-title-6 = Маусым
month-title-7 = Шілде
month-title-8 = Тамыз
month-title-9 = Қыркүйек
month-title-10 = Қазан
month-title-11 = Қараша
month-title-12 = Желтоқсан

## Ұзақтық: «Код 5 минут бойы жарамды»
duration-minutes = { $count } минут
duration-seconds = { $count } секунд

language-name-kk = Қазақша
language-name-ru = Орысша

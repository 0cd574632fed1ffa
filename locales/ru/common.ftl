# Общие тексты: разделы, кнопки, даты.

## Разделы (названия из памятки)
section-feed = Лента событий
section-applications = Мои заявления
section-referrals = Мои направления
section-files = Личные дела
section-settings = Настройки
section-cabinet = Личный кабинет

## Кнопки
button-back = ‹ Назад
button-menu = Меню
button-logout = Выйти
button-cancel = Отмена
button-continue = Продолжить

## Числа
unread-count = { $count ->
    [one] { $count } новое
   *[other] { $count } новых
}
days-left = { $count ->
    [one] остался { $count } день
    [few] осталось { $count } дня
    [many] осталось { $count } дней
   *[other] осталось { $count } дня
}
applications-count = { $count ->
    [one] { $count } заявление
    [few] { $count } заявления
    [many] { $count } заявлений
   *[other] { $count } заявления
}

## Даты
date-long = { $day } { $month } { $year } г.
date-time = { $date }, { $time }
date-day-month = { $day } { $month }
month-with-year = { $month } { $year }

month-in-date-1 = января
month-in-date-2 = февраля
month-in-date-3 = марта
month-in-date-4 = апреля
month-in-date-5 = мая
month-in-date-6 = июня
month-in-date-7 = июля
month-in-date-8 = августа
month-in-date-9 = сентября
month-in-date-10 = октября
month-in-date-11 = ноября
month-in-date-12 = декабря

month-title-1 = Январь
month-title-2 = Февраль
month-title-3 = Март
month-title-4 = Апрель
month-title-5 = Май
month-title-6 = Июнь
month-title-7 = Июль
month-title-8 = Август
month-title-9 = Сентябрь
month-title-10 = Октябрь
month-title-11 = Ноябрь
month-title-12 = Декабрь

language-name-kk = Казахский
language-name-ru = Русский

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
    [0] истекает сегодня
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

## Месяц после «с»: «с 1 сентября»
month-from-1 = января
month-from-2 = февраля
month-from-3 = марта
month-from-4 = апреля
month-from-5 = мая
month-from-6 = июня
month-from-7 = июля
month-from-8 = августа
month-from-9 = сентября
month-from-10 = октября
month-from-11 = ноября
month-from-12 = декабря

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

## Длительность: «Код действует 5 минут»
duration-minutes = { $count ->
    [one] { $count } минуту
    [few] { $count } минуты
   *[other] { $count } минут
}
duration-seconds = { $count ->
    [one] { $count } секунду
    [few] { $count } секунды
   *[other] { $count } секунд
}

language-name-kk = Казахский
language-name-ru = Русский

# R side of bench/forecast-accuracy.sh (see there). Modes:
#   Rscript bench/forecast-accuracy.R accuracy OUTDIR BENCH_BIN
#     exports the series, holds out the last 2 seasons, runs BENCH_BIN on the training parts (kpi),
#     fits forecast::ets, forecast::auto.arima and prophet, scores every method (MASE, sMAPE, 95%
#     coverage) and writes OUTDIR/accuracy.md (the tables) and OUTDIR/accuracy.txt (key value).
#   Rscript bench/forecast-accuracy.R gen OUTDIR N
#     writes OUTDIR/speed.csv: N deterministic 60-point monthly series (bench_forecast's format).
#   Rscript bench/forecast-accuracy.R speed OUTDIR N
#     times forecast(ets(y), h = 12) over the first N series of OUTDIR/speed.csv; prints seconds.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
mode <- args[1]
out <- args[2]

read_kpi_format <- function(path) {
  lines <- readLines(path)
  lapply(strsplit(lines, ","), function(f) {
    list(name = f[1], season = as.integer(f[2]), horizon = as.integer(f[3]), y = as.numeric(f[-(1:3)]))
  })
}

if (mode == "gen") {
  n <- as.integer(args[3])
  set.seed(20240601)
  lines <- character(n)
  t <- 1:60
  for (i in 1:n) {
    shape <- (i - 1) %% 4
    level <- runif(1, 50, 5000)
    slope <- runif(1, -0.004, 0.012) * level
    amp <- runif(1, 0.03, 0.25)
    noise <- runif(1, 0.01, 0.08)
    phase <- runif(1, 0, 2 * pi)
    s <- sin(2 * pi * t / 12 + phase)
    y <- switch(shape + 1,
      level + slope * t + amp * level * s + rnorm(60, 0, noise * level),          # additive
      (level + slope * t) * (1 + amp * s) * (1 + rnorm(60, 0, noise)),             # multiplicative
      level + cumsum(rnorm(60, slope / 3, noise * level)) + amp * level * s,       # stochastic level
      level + slope * 20 * (1 - 0.95^t) / 0.05 + rnorm(60, 0, noise * level))      # damped, no season
    y <- pmax(y, 1)
    lines[i] <- paste(c(sprintf("s%04d", i), 12, 12, sprintf("%.4f", y)), collapse = ",")
  }
  writeLines(lines, file.path(out, "speed.csv"))
  quit(status = 0)
}

if (mode == "speed") {
  n <- as.integer(args[3])
  ser <- read_kpi_format(file.path(out, "speed.csv"))[1:n]
  ys <- lapply(ser, function(s) ts(s$y, frequency = s$season))
  t <- system.time(for (y in ys) fc <- forecast(ets(y), h = 12, level = c(80, 95)))
  cat(sprintf("series %d\nseconds %.4f\n", n, t[["elapsed"]]))
  quit(status = 0)
}

stopifnot(mode == "accuracy")
bench_bin <- args[3]
library(datasets)
series <- list(AirPassengers = AirPassengers, USAccDeaths = USAccDeaths, UKgas = UKgas, nottem = nottem,
               co2 = co2, ldeaths = ldeaths, wineind = forecast::wineind, gas = forecast::gas)

split <- lapply(series, function(y) {
  m <- frequency(y)
  h <- 2 * m
  n <- length(y)
  list(train = ts(y[1:(n - h)], start = start(y), frequency = m), test = as.numeric(y[(n - h + 1):n]), m = m, h = h)
})

# ---- kpi ------------------------------------------------------------------------------------
train_csv <- file.path(out, "accuracy-train.csv")
writeLines(vapply(names(split), function(nm) {
  s <- split[[nm]]
  paste(c(nm, s$m, s$h, format(as.numeric(s$train), digits = 15)), collapse = ",")
}, ""), train_csv)
kpi_csv <- file.path(out, "accuracy-kpi.csv")
st <- system2(bench_bin, train_csv, stdout = kpi_csv)
if (st != 0) stop("bench_forecast failed")
kpi <- read.csv(kpi_csv, stringsAsFactors = FALSE)

# ---- peers ----------------------------------------------------------------------------------
ds_of <- function(y) {
  tt <- as.numeric(time(y))
  yr <- floor(tt + 1e-8)
  mon <- if (frequency(y) == 12) cycle(y) else (cycle(y) - 1) * 3 + 1
  as.Date(sprintf("%04d-%02d-01", yr, as.integer(mon)))
}
have_prophet <- suppressWarnings(suppressPackageStartupMessages(requireNamespace("prophet", quietly = TRUE)))
fc <- list()
prophet_note <- character(0)
models <- list()
for (nm in names(split)) {
  s <- split[[nm]]
  k <- kpi[kpi$name == nm, ]
  k <- k[order(k$step), ]
  models[[nm]] <- list(kpi = if (nzchar(k$model[1]) && !is.na(k$model[1])) k$model[1] else k$method[1])
  fc[[nm]] <- list(kpi = list(mean = k$mean, lo = k$lo95, hi = k$hi95))
  e <- ets(s$train)
  f <- forecast(e, h = s$h, level = c(80, 95))
  models[[nm]]$ets <- sub("^ETS\\((.*)\\)$", "\\1", e$method)
  fc[[nm]]$ets <- list(mean = as.numeric(f$mean), lo = as.numeric(f$lower[, 2]), hi = as.numeric(f$upper[, 2]))
  a <- auto.arima(s$train)
  f <- forecast(a, h = s$h, level = c(80, 95))
  models[[nm]]$arima <- sub("^ARIMA", "", forecast:::arima.string(a, padding = FALSE))
  fc[[nm]]$arima <- list(mean = as.numeric(f$mean), lo = as.numeric(f$lower[, 2]), hi = as.numeric(f$upper[, 2]))
  p <- NULL
  if (have_prophet) {
    p <- tryCatch({
      df <- data.frame(ds = ds_of(s$train), y = as.numeric(s$train))
      mdl <- suppressMessages(prophet::prophet(df, interval.width = 0.95))
      fut <- prophet::make_future_dataframe(mdl, periods = s$h, freq = if (s$m == 12) "month" else "quarter",
                                            include_history = FALSE)
      set.seed(42)  # prophet samples its intervals: the same run, the same figures
      pr <- predict(mdl, fut)
      list(mean = pr$yhat, lo = pr$yhat_lower, hi = pr$yhat_upper)
    }, error = function(err) {
      prophet_note <<- c(prophet_note, sprintf("%s: %s", nm, conditionMessage(err)))
      NULL
    })
  } else if (length(prophet_note) == 0) {
    prophet_note <- "the R package prophet could not be loaded"
  }
  fc[[nm]]$prophet <- if (is.null(p)) list(mean = rep(NA, s$h), lo = rep(NA, s$h), hi = rep(NA, s$h)) else p
}

# ---- scores ---------------------------------------------------------------------------------
methods <- c("kpi", "ets", "arima", "prophet")
labels <- c(kpi = "kpi", ets = "ets", arima = "auto.arima", prophet = "prophet")
score <- function(s, f) {
  scale <- mean(abs(diff(as.numeric(s$train), lag = s$m)))
  c(mase = mean(abs(s$test - f$mean)) / scale,
    smape = mean(200 * abs(s$test - f$mean) / (abs(s$test) + abs(f$mean))),
    cover = mean(s$test >= f$lo & s$test <= f$hi) * 100)
}
res <- array(NA_real_, c(length(split), length(methods), 3),
             dimnames = list(names(split), methods, c("mase", "smape", "cover")))
for (nm in names(split)) for (me in methods) res[nm, me, ] <- score(split[[nm]], fc[[nm]][[me]])
overall <- apply(res, c(2, 3), mean)               # NA for prophet when any series failed
overall_ok <- apply(res, c(2, 3), mean, na.rm = TRUE)

f2 <- function(x) ifelse(is.na(x), "NA", sprintf("%.3f", x))
f1 <- function(x) ifelse(is.na(x), "NA", sprintf("%.1f", x))
cat("\nper series (MASE / sMAPE % / 95% coverage %):\n")
for (nm in names(split)) {
  cat(sprintf("%-14s", nm))
  for (me in methods) cat(sprintf("  %s %s/%s/%s", labels[me], f2(res[nm, me, 1]), f1(res[nm, me, 2]), f1(res[nm, me, 3])))
  cat("\n")
}
cat("overall:\n")
for (me in methods) cat(sprintf("  %-10s MASE %s  sMAPE %s  coverage95 %s\n", labels[me], f2(overall[me, 1]),
                                f1(overall[me, 2]), f1(overall[me, 3])))

md <- c("| series | m | train / test | kpi model | ets model | auto.arima model | MASE kpi | MASE ets | MASE auto.arima | MASE prophet | sMAPE kpi | sMAPE ets | sMAPE auto.arima | sMAPE prophet |",
        "| --- | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for (nm in names(split)) {
  s <- split[[nm]]
  md <- c(md, sprintf("| %s | %d | %d / %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", nm, s$m,
                      length(s$train), s$h, models[[nm]]$kpi, models[[nm]]$ets, models[[nm]]$arima,
                      f2(res[nm, "kpi", 1]), f2(res[nm, "ets", 1]), f2(res[nm, "arima", 1]), f2(res[nm, "prophet", 1]),
                      f1(res[nm, "kpi", 2]), f1(res[nm, "ets", 2]), f1(res[nm, "arima", 2]), f1(res[nm, "prophet", 2])))
}
md <- c(md, sprintf("| **overall (mean)** | | | | | | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** |",
                    f2(overall["kpi", 1]), f2(overall["ets", 1]), f2(overall["arima", 1]), f2(overall["prophet", 1]),
                    f1(overall["kpi", 2]), f1(overall["ets", 2]), f1(overall["arima", 2]), f1(overall["prophet", 2])))
md <- c(md, "", "| 95% interval coverage (%) | kpi | ets | auto.arima | prophet |", "| --- | ---: | ---: | ---: | ---: |")
for (nm in names(split)) md <- c(md, sprintf("| %s | %s | %s | %s | %s |", nm, f1(res[nm, "kpi", 3]), f1(res[nm, "ets", 3]),
                                             f1(res[nm, "arima", 3]), f1(res[nm, "prophet", 3])))
md <- c(md, sprintf("| **overall (mean)** | **%s** | **%s** | **%s** | **%s** |", f1(overall["kpi", 3]), f1(overall["ets", 3]),
                    f1(overall["arima", 3]), f1(overall["prophet", 3])))
writeLines(md, file.path(out, "accuracy.md"))

n_prophet <- sum(!is.na(res[, "prophet", 1]))
kv <- c(sprintf("kpi_mase %.6f", overall["kpi", 1]), sprintf("ets_mase %.6f", overall["ets", 1]),
        sprintf("arima_mase %.6f", overall["arima", 1]), sprintf("prophet_mase %s", f2(overall["prophet", 1])),
        sprintf("prophet_mase_ok %.6f", overall_ok["prophet", 1]),
        sprintf("kpi_mase_on_prophet_series %.6f", mean(res[!is.na(res[, "prophet", 1]), "kpi", 1])),
        sprintf("kpi_smape %.6f", overall["kpi", 2]), sprintf("ets_smape %.6f", overall["ets", 2]),
        sprintf("kpi_cover %.6f", overall["kpi", 3]), sprintf("ets_cover %.6f", overall["ets", 3]),
        sprintf("arima_cover %.6f", overall["arima", 3]), sprintf("prophet_cover %s", f1(overall["prophet", 3])),
        sprintf("n_series %d", length(split)), sprintf("n_prophet %d", n_prophet),
        sprintf("r_version %s", paste(R.version$major, R.version$minor, sep = ".")),
        sprintf("forecast_version %s", as.character(packageVersion("forecast"))),
        sprintf("prophet_version %s", if (have_prophet) as.character(packageVersion("prophet")) else "none"))
writeLines(kv, file.path(out, "accuracy.txt"))
writeLines(if (length(prophet_note)) prophet_note else character(0), file.path(out, "prophet-failures.txt"))
if (length(prophet_note)) cat("prophet failed:", prophet_note, sep = "\n  ")
